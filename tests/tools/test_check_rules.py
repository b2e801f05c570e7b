"""What the HubSpot check asks of a token: scopes per configuration and the rate-limit tier text."""

from __future__ import annotations

from target_hubspot_finance.commands.check import missing_scopes, needed_scopes, tier_text


def test_commerce_payments_mode_needs_payment_scopes_properties_mode_does_not():
    # HubSpot's payments API reference names crm.objects.commercepayments.read/.write
    assert {"crm.objects.commercepayments.read", "crm.objects.commercepayments.write"} <= set(
        needed_scopes({}))
    assert not any("commerce_payments" in s for s in needed_scopes({}))
    assert not any("commercepayments" in s for s in needed_scopes({"payments_mode": "properties"}))


def test_missing_scopes_lists_only_what_the_token_lacks():
    all_scopes = {s for s in needed_scopes({})}
    assert missing_scopes(all_scopes, {}) == []
    assert missing_scopes(all_scopes - {"crm.objects.invoices.write"}, {}) == [
        "crm.objects.invoices.write"]


def test_legacy_e_commerce_scope_covers_line_items():
    granted = {s for s in needed_scopes({}) if not s.startswith("crm.objects.line_items")}
    assert missing_scopes(granted | {"e-commerce"}, {}) == []


def test_tier_text_names_hubspot_subscription_tiers():
    assert tier_text(190, 10000) == "190 requests per 10 s (Professional/Enterprise)"
    assert tier_text(100, 10000) == "100 requests per 10 s (Free/Starter)"
    assert tier_text(120, 10000) == "120 requests per 10 s"
