"""JSON schemas of the streams, with SAP's field names and value forms (docs/CONTRACTS.md).

Nullability follows SAP: keys, document numbers, dates and status enums are always filled by
SAP; free-text, contact and optional link fields may be null. Dates are emitted as `YYYY-MM-DD`
(the tap normalises SAP's `YYYY-MM-DDT00:00:00Z` form), times as `HH:MM:SS`, amounts as numbers.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

YES_NO = ["tYES", "tNO"]
CANCEL_STATUS = ["csYes", "csNo", "csCancellation"]
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$"


def text(name: str, *, nullable: bool = True) -> th.Property:
    """A string field."""
    return th.Property(name, th.StringType, nullable=nullable)


def enum(name: str, values: list[str], *, nullable: bool = False) -> th.Property:
    """A closed SAP enumeration (null allowed only where SAP may leave it empty)."""
    allowed: list[Any] = [*values, None] if nullable else list(values)
    return th.Property(name, th.StringType, allowed_values=allowed, nullable=nullable)


def integer(name: str, *, nullable: bool = True, required: bool = False) -> th.Property:
    """An integer field (codes, numbers, keys)."""
    return th.Property(name, th.IntegerType, nullable=nullable and not required,
                       required=required)


def number(name: str, *, nullable: bool = True) -> th.Property:
    """An amount or quantity."""
    return th.Property(name, th.NumberType, nullable=nullable)


def date(name: str, *, nullable: bool = True) -> th.Property:
    """A calendar date, `YYYY-MM-DD`."""
    return th.Property(name, th.DateType, nullable=nullable)


def time_of_day(name: str) -> th.Property:
    """SAP's `UpdateTime`: server local time `HH:MM:SS`."""
    return th.Property(name, th.StringType(pattern=TIME_PATTERN), nullable=True)


# fields the tap adds to records; every other field is SAP's, on the server or not read
TAP_FIELDS = frozenset({"sap_updated_at", "PaymentTermsName", "AccountName", "ProfitCenterName"})

SAP_UPDATED_AT = th.Property(
    "sap_updated_at", th.DateTimeType, required=True, nullable=False,
    description="UpdateDate + UpdateTime (SAP server local time, written with +00:00); "
                "the replication key.")

CONTACT_EMPLOYEE = th.ObjectType(
    text("CardCode"), integer("InternalCode", nullable=False), text("Name"), text("FirstName"),
    text("LastName"), text("E_Mail"), text("Phone1"), text("MobilePhone"), text("Position"),
    enum("Active", YES_NO, nullable=True),
)

BP_ADDRESS = th.ObjectType(
    text("AddressName"), enum("AddressType", ["bo_BillTo", "bo_ShipTo"], nullable=True),
    text("Street"), text("City"), text("ZipCode"), text("State"), text("Country"),
    text("BPCode"), integer("RowNum"),
)

BUSINESS_PARTNER = th.PropertiesList(
    th.Property("CardCode", th.StringType, required=True, nullable=False),
    text("CardName"),
    enum("CardType", ["cCustomer", "cSupplier", "cLid"]),
    integer("GroupCode"),
    text("Currency", nullable=True),
    text("Phone1"), text("Phone2"), text("Cellular"), text("EmailAddress"), text("Website"),
    text("FederalTaxID"), text("Address"), text("City"), text("ZipCode"), text("Country"),
    number("CreditLimit"), number("MaxCommitment"), number("CurrentAccountBalance"),
    number("OpenOrdersBalance"),
    integer("PayTermsGrpCode"), integer("SalesPersonCode"),
    enum("Frozen", YES_NO, nullable=True), enum("Valid", YES_NO, nullable=True),
    text("Notes"),
    date("CreateDate"), date("UpdateDate"), time_of_day("UpdateTime"),
    th.Property("ContactEmployees", th.ArrayType(CONTACT_EMPLOYEE), nullable=True),
    th.Property("BPAddresses", th.ArrayType(BP_ADDRESS), nullable=True),
    SAP_UPDATED_AT,
    th.Property("PaymentTermsName", th.StringType, nullable=True,
                description="Name of PayTermsGrpCode in PaymentTermsTypes (enrich_line_items)."),
).to_dict()

DOCUMENT_LINE = th.ObjectType(
    integer("LineNum", nullable=False), text("ItemCode"), text("ItemDescription"),
    number("Quantity"), number("UnitPrice"), number("Price"), text("Currency"),
    number("DiscountPercent"), number("LineTotal"), number("RowTotalFC"), text("TaxCode"),
    text("AccountCode"),
    text("CostingCode"), enum("LineStatus", ["bost_Open", "bost_Close"], nullable=True),
    integer("BaseType"), integer("BaseEntry"), integer("BaseLine"),
    th.Property("AccountName", th.StringType, nullable=True,
                description="Name of AccountCode in ChartOfAccounts (enrich_line_items)."),
    th.Property("ProfitCenterName", th.StringType, nullable=True,
                description="Name of CostingCode in ProfitCenters (enrich_line_items)."),
)

DOCUMENT = th.PropertiesList(
    integer("DocEntry", required=True),
    integer("DocNum", nullable=False),
    enum("DocType", ["dDocument_Items", "dDocument_Service"]),
    date("DocDate", nullable=False), date("DocDueDate"), date("TaxDate"),
    th.Property("CardCode", th.StringType, nullable=False), text("CardName"),
    text("NumAtCard"), text("DocCurrency"), number("DocRate"),
    number("DocTotal", nullable=False), number("DocTotalFc"), number("VatSum"),
    number("PaidToDate"),
    enum("DocumentStatus", ["bost_Open", "bost_Close", "bost_Paid", "bost_Delivered"]),
    number("VatSumFc"), number("PaidToDateFC"),
    th.Property("DiscountPercent", th.NumberType, nullable=True,
                description="Document (header) discount %, applied to the lines' net total "
                            "before tax; null or 0 when none."),
    th.Property("TotalDiscount", th.NumberType, nullable=True,
                description="The document discount as an amount, in the local currency."),
    th.Property("TotalDiscountFC", th.NumberType, nullable=True,
                description="The document discount as an amount, in the document's foreign "
                            "currency (0 on a local-currency document)."),
    enum("Cancelled", YES_NO), enum("CancelStatus", CANCEL_STATUS, nullable=True),
    text("Comments"), integer("SalesPersonCode"), integer("PaymentGroupCode"),
    integer("ContactPersonCode"),
    date("CreationDate"), date("UpdateDate"), time_of_day("UpdateTime"),
    th.Property("DocumentLines", th.ArrayType(DOCUMENT_LINE), nullable=True),
    SAP_UPDATED_AT,
).to_dict()

PAYMENT_INVOICE = th.ObjectType(
    integer("LineNum", nullable=False), integer("DocEntry", nullable=False),
    number("SumApplied"), number("AppliedFC"), number("DocRate"), text("InvoiceType"),
    integer("DocLine"),
    # settled besides the money (SumApplied): cash discount and withholding tax, local and Fc
    number("TotalDiscount"), number("TotalDiscountFC"), number("WitholdingTaxApplied"),
    number("WitholdingTaxAppliedFC"),
)

PAYMENT_CHECK = th.ObjectType(
    integer("LineNum", nullable=False), date("DueDate"), integer("CheckNumber"),
    text("BankCode"), number("CheckSum"), text("Currency"),
)

PAYMENT_CREDIT_CARD = th.ObjectType(
    integer("LineNum", nullable=False), integer("CreditCard"), text("VoucherNum"),
    number("CreditSum"), text("CreditCur"),
)

INCOMING_PAYMENT = th.PropertiesList(
    integer("DocEntry", required=True),
    integer("DocNum", nullable=False),
    enum("DocType", ["rCustomer", "rSupplier", "rAccount"]),
    date("DocDate", nullable=False),
    th.Property("CardCode", th.StringType, nullable=True), text("CardName"),
    text("DocCurrency"), number("DocRate"), enum("LocalCurrency", YES_NO, nullable=True),
    number("CashSum"), number("CashSumFC"), number("TransferSum"),
    date("TransferDate"), text("TransferReference"),
    th.Property("Cancelled", th.StringType, allowed_values=YES_NO, nullable=False,
                description="tYES once the payment is cancelled in SAP (re-read within "
                            "payments_reread_days of its DocDate)."),
    enum("CancelStatus", CANCEL_STATUS, nullable=True), text("Remarks"),
    th.Property("PaymentInvoices", th.ArrayType(PAYMENT_INVOICE), nullable=True),
    th.Property("PaymentChecks", th.ArrayType(PAYMENT_CHECK), nullable=True,
                description="Check amounts (CheckSum per check)."),
    th.Property("PaymentCreditCards", th.ArrayType(PAYMENT_CREDIT_CARD), nullable=True,
                description="Credit card amounts (CreditSum per card)."),
).to_dict()

CHART_OF_ACCOUNTS = th.PropertiesList(
    th.Property("Code", th.StringType, required=True, nullable=False),
    text("Name"), text("AcctCurrency"), enum("ActiveAccount", YES_NO, nullable=True),
    text("AccountType"),
).to_dict()

PROFIT_CENTERS = th.PropertiesList(
    th.Property("CenterCode", th.StringType, required=True, nullable=False),
    text("CenterName"), integer("InWhichDimension"), enum("Active", YES_NO, nullable=True),
).to_dict()

PAYMENT_TERMS_TYPES = th.PropertiesList(
    integer("GroupNumber", required=True),
    text("PaymentTermsGroupName"), integer("NumberOfAdditionalDays"),
    integer("NumberOfAdditionalMonths"),
).to_dict()
