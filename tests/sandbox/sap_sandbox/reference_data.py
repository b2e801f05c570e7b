"""Fixed reference sets (accounts, profit centres, payment terms, items, names) for the generator.

Shapes follow SAP Business One's ChartOfAccounts, ProfitCenters and PaymentTermsTypes entities;
the codes are invented but in the style of a US demo company (SBODEMOUS).
"""

from __future__ import annotations

from typing import Any

# (Code, Name, AccountType, postable)
ACCOUNTS: tuple[tuple[str, str, str, bool], ...] = (
    ("100000", "Assets", "at_Other", False),
    ("110000", "Cash on Hand", "at_Other", True),
    ("111000", "Bank - Operating Account", "at_Other", True),
    ("120000", "Accounts Receivable", "at_Other", True),
    ("130000", "Inventory", "at_Other", True),
    ("200000", "Liabilities", "at_Other", False),
    ("210000", "Accounts Payable", "at_Other", True),
    ("220000", "Sales Tax Payable", "at_Other", True),
    ("400000", "Revenues", "at_Revenues", False),
    ("410000", "Sales Revenue - Products", "at_Revenues", True),
    ("411000", "Sales Revenue - Export", "at_Revenues", True),
    ("420000", "Service Revenue", "at_Revenues", True),
    ("421000", "Maintenance Contracts", "at_Revenues", True),
    ("430000", "Freight Income", "at_Revenues", True),
    ("440000", "Sales Returns and Allowances", "at_Revenues", True),
    ("500000", "Cost of Sales", "at_Expenses", False),
    ("510000", "Cost of Goods Sold", "at_Expenses", True),
    ("520000", "Freight Expense", "at_Expenses", True),
    ("600000", "Operating Expenses", "at_Expenses", False),
    ("610000", "Salaries and Wages", "at_Expenses", True),
    ("620000", "Rent", "at_Expenses", True),
    ("630000", "Bank Charges", "at_Expenses", True),
)
REVENUE_ACCOUNTS = ("410000", "411000", "420000", "421000", "430000")

# (CenterCode, CenterName)
PROFIT_CENTERS: tuple[tuple[str, str], ...] = (
    ("SALES-E", "Sales East"),
    ("SALES-W", "Sales West"),
    ("SALES-C", "Sales Central"),
    ("SERVICE", "Field Service"),
    ("ONLINE", "Online Store"),
    ("EXPORT", "Export"),
)

# (GroupNumber, PaymentTermsGroupName, NumberOfAdditionalDays, NumberOfAdditionalMonths)
PAYMENT_TERMS: tuple[tuple[int, str, int, int], ...] = (
    (-1, "- Cash Basic -", 0, 0),
    (1, "Net 15", 15, 0),
    (2, "Net 30", 30, 0),
    (3, "Net 45", 45, 0),
    (4, "Net 60", 60, 0),
    (5, "1 Month + 10 Days", 10, 1),
)

# (ItemCode, ItemDescription, base unit price, revenue account)
ITEMS: tuple[tuple[str, str, float, str], ...] = (
    ("A00001", "J.B. Officeprint 1420", 400.0, "410000"),
    ("A00002", "J.B. Officeprint 1111", 250.0, "410000"),
    ("A00003", "J.B. Officeprint 1186", 180.0, "410000"),
    ("A00004", "Rainbow Color Printer 5.0", 500.0, "410000"),
    ("A00005", "Rainbow Nuance Ink 3.0", 42.5, "410000"),
    ("A00006", "Rainbow Printer 9.5 Inkjet", 320.0, "411000"),
    ("B10000", "Printer Label", 8.75, "410000"),
    ("C00001", "Motherboard BTX", 175.0, "410000"),
    ("C00002", "Motherboard MicroATX", 145.0, "410000"),
    ("C00003", "Quad-core Processor 3.4 GHz", 290.0, "410000"),
    ("C00004", "Desktop Case", 65.0, "410000"),
    ("C00005", "Ergonomic Keyboard", 39.9, "410000"),
    ("C00006", "SSD 1 TB", 99.0, "411000"),
    ("C00007", "Hard Disk 4 TB", 119.0, "410000"),
    ("C00008", "Computer Monitor 27\"", 229.0, "410000"),
    ("I00001", "Installation Service (hour)", 95.0, "420000"),
    ("I00002", "On-site Repair (hour)", 120.0, "420000"),
    ("I00003", "Annual Maintenance Contract", 1200.0, "421000"),
    ("S10000", "Shipping and Handling", 25.0, "430000"),
)

# (TaxCode, rate)
TAX_CODES: tuple[tuple[str, float], ...] = (("EX", 0.0), ("TX8", 0.08), ("TX10", 0.1025))

COMPANY_WORDS_A = (
    "Acme", "Northwind", "Blue Ridge", "Summit", "Harbor", "Pioneer", "Redwood", "Silverline",
    "Granite", "Maple", "Cascade", "Liberty", "Evergreen", "Orion", "Keystone", "Riverbend",
    "Lakeside", "Ironwood", "Golden Gate", "Prairie", "Beacon", "Falcon", "Crescent", "Atlas",
)
COMPANY_WORDS_B = (
    "Office Supplies", "Computers", "Trading", "Electronics", "Logistics", "Systems", "Partners",
    "Distribution", "Retail", "Industries", "Technologies", "Services", "Wholesale", "Solutions",
)
COMPANY_SUFFIXES = ("Inc.", "LLC", "Corp.", "Co.", "Ltd.", "Group")
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Carlos", "Ana", "Wei", "Priya", "Olga", "Ahmed", "Yuki", "Sofia", "Liam", "Chloe",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Chen", "Patel", "Kowalski",
)
POSITIONS = ("Purchasing Manager", "Accounts Payable", "CFO", "Office Manager", "Buyer", "Owner",
             None)
# (City, State, ZipCode prefix)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("New York", "NY", "100"), ("Boston", "MA", "021"), ("Chicago", "IL", "606"),
    ("Austin", "TX", "787"), ("Denver", "CO", "802"), ("Seattle", "WA", "981"),
    ("Atlanta", "GA", "303"), ("San Jose", "CA", "951"), ("Phoenix", "AZ", "850"),
    ("Portland", "OR", "972"), ("Miami", "FL", "331"), ("Columbus", "OH", "432"),
)
STREETS = ("Main St", "Oak Ave", "Park Blvd", "Lake Dr", "Cedar Ln", "Market St", "2nd Ave",
           "Industrial Way", "Commerce Pkwy", "Elm St")


def chart_of_accounts() -> list[dict[str, Any]]:
    """ChartOfAccounts records (title accounts are not postable: ActiveAccount tNO)."""
    return [
        {"Code": code, "Name": name, "AcctCurrency": "##",
         "ActiveAccount": "tYES" if post else "tNO", "AccountType": kind, "Balance": 0.0,
         "FatherAccountKey": code[0] + "00000" if post else None}
        for code, name, kind, post in ACCOUNTS
    ]


def profit_centers() -> list[dict[str, Any]]:
    """ProfitCenters records, all in dimension 1 (SAP's default cost-accounting dimension)."""
    return [{"CenterCode": code, "CenterName": name, "InWhichDimension": 1, "Active": "tYES",
             "EffectiveFrom": "2020-01-01", "EffectiveTo": None}
            for code, name in PROFIT_CENTERS]


def payment_terms_types() -> list[dict[str, Any]]:
    """PaymentTermsTypes records."""
    return [{"GroupNumber": number, "PaymentTermsGroupName": name,
             "NumberOfAdditionalDays": days, "NumberOfAdditionalMonths": months,
             "StartFrom": "pdt_None", "OpenReceipt": "oip_No"}
            for number, name, days, months in PAYMENT_TERMS]
