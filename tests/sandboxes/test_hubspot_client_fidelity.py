"""HubSpot sandbox fidelity: HubSpot's own Python client (hubspot-api-client 12) talks to the
sandbox and deserialises every answer into its typed models, so the sandbox speaks HubSpot's wire
format (ISO timestamps, batch envelopes, v4 association shapes, error bodies)."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicDefaultAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.commerce.invoices import (
    BatchInputSimplePublicObjectBatchInputUpsert as InvoiceUpsertBatch,
)
from hubspot.crm.commerce.invoices import (
    SimplePublicObjectBatchInputUpsert as InvoiceUpsert,
)
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.companies.exceptions import ApiException
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate


@pytest.fixture
def hubspot(hubspot_sandbox, hubspot_token) -> HubSpot:
    return HubSpot(access_token=hubspot_token, host=hubspot_sandbox.url)


def _unique(hubspot: HubSpot, otype: str, name: str, group: str) -> None:
    prop = hubspot.crm.properties.core_api.create(otype, PropertyCreate(
        name=name, label=name, type="string", field_type="text", group_name=group,
        has_unique_value=True))
    assert prop.has_unique_value is True and prop.name == name


def test_official_client_creates_upserts_and_reads_companies(hubspot, hubspot_sandbox):
    group = hubspot.crm.properties.groups_api.create(
        "companies", PropertyGroupCreate(name="sap_b1", label="SAP Business One"))
    assert group.name == "sap_b1"
    _unique(hubspot, "companies", "sap_card_code", "sap_b1")
    created = hubspot.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"name": "ACME", "sap_card_code": "C00001"}, associations=[]))
    assert created.id and created.created_at.year >= 2024

    upserted = hubspot.crm.companies.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[SimplePublicObjectBatchInputUpsert(id=code, id_property="sap_card_code",
                                                   properties={"name": name})
                for code, name in (("C00001", "ACME Corp"), ("C00002", "Globex"))]))
    assert upserted.status == "COMPLETE"
    assert upserted.started_at <= upserted.completed_at
    by_code = {r.properties["sap_card_code"]: r for r in upserted.results}
    assert by_code["C00001"].new is False and by_code["C00001"].id == created.id
    assert by_code["C00002"].new is True

    read = hubspot.crm.companies.batch_api.read(BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id="C00001"), SimplePublicObjectId(id="C00002")],
        id_property="sap_card_code", properties=["name"], properties_with_history=[]))
    assert sorted(r.properties["name"] for r in read.results) == ["ACME Corp", "Globex"]
    one = hubspot.crm.companies.basic_api.get_by_id(created.id, properties=["name"])
    assert one.properties["name"] == "ACME Corp" and one.updated_at >= one.created_at
    page = hubspot.crm.companies.basic_api.get_page(limit=1, properties=["name"])
    assert len(page.results) == 1 and page.paging.next.after
    assert len(hubspot_sandbox.objects("companies")) == 2


def test_official_client_upserts_invoices_and_reads_associations(hubspot, hubspot_sandbox):
    _unique(hubspot, "invoices", "sap_doc_num", "invoiceinformation")
    company = hubspot.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": "ACME"}, associations=[]))
    result = hubspot.crm.commerce.invoices.batch_api.upsert(InvoiceUpsertBatch(inputs=[
        InvoiceUpsert(id="1001", id_property="sap_doc_num",
                      properties={"hs_currency": "EUR", "hs_invoice_date": "2024-03-05"})]))
    invoice = result.results[0]
    assert invoice.new is True and invoice.properties["hs_invoice_status"] == "draft"

    v4 = hubspot.crm.associations.v4
    linked = v4.basic_api.create_default("invoices", invoice.id, "companies", company.id)
    assert linked.status == "COMPLETE"
    assert {r.association_spec.association_type_id for r in linked.results} == {179, 180}
    batch = v4.batch_api.create_default("invoices", "companies",
                                        BatchInputPublicDefaultAssociationMultiPost(inputs=[
                                            PublicDefaultAssociationMultiPost(
                                                _from={"id": invoice.id},
                                                to={"id": company.id})]))
    assert batch.status == "COMPLETE"
    page = v4.batch_api.get_page("invoices", "companies",
                                 BatchInputPublicFetchAssociationsBatchRequest(
                                     inputs=[PublicFetchAssociationsBatchRequest(id=invoice.id)]))
    assert str(page.results[0].to[0].to_object_id) == company.id
    assert page.results[0].to[0].association_types[0].type_id == 179
    listed = v4.basic_api.get_page("companies", company.id, "invoices")
    assert [str(r.to_object_id) for r in listed.results] == [invoice.id]
    assert hubspot_sandbox.associations("invoices", "companies") == [
        (invoice.id, company.id, 179)]

    found = hubspot.crm.commerce.invoices.search_api.do_search({
        "filterGroups": [{"filters": [
            {"propertyName": "sap_doc_num", "operator": "EQ", "value": "1001"}]}],
        "properties": ["sap_doc_num", "hs_currency"], "limit": 10})
    assert found.total == 1 and found.results[0].properties["hs_currency"] == "EUR"


def test_official_client_surfaces_hubspots_error_bodies(hubspot):
    with pytest.raises(ApiException) as caught:
        hubspot.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"no_such_property": "x"}, associations=[]))
    assert caught.value.status == 400
    assert "PROPERTY_DOESNT_EXIST" in caught.value.body
    props = hubspot.crm.properties.core_api.get_all("invoices")
    names = {p.name for p in props.results}
    assert {"hs_currency", "hs_invoice_status", "hs_due_date"} <= names


def test_official_client_reads_a_207_with_per_input_errors(hubspot, hubspot_sandbox):
    result = hubspot.crm.companies.batch_api.create({"inputs": [
        {"objectWriteTraceId": "ok", "properties": {"name": "Fine"}, "associations": []},
        {"objectWriteTraceId": "bad", "properties": {"industry": "NOPE"}, "associations": []}]})
    assert type(result).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert result.num_errors == 1
    assert result.errors[0].context == {"objectWriteTraceId": ["bad"]}
    assert [r.properties["name"] for r in result.results] == ["Fine"]
    assert len(hubspot_sandbox.objects("companies")) == 1
