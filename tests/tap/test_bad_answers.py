"""Answers a Service Layer (or a proxy in front of it) should not give: each ends the run with one
line naming what happened, never a traceback, a short stream, or a session cookie sent elsewhere."""

from __future__ import annotations

import io
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_sap import LOGIN_OK, Answer, fake_sap
from tap_helpers import SAP_PASSWORD, run_cli

from tap_sapb1.redact import MASK, SecretFilter, register_secret

CENTERS = [{"CenterCode": f"PC{n}", "CenterName": f"Center {n}"} for n in range(1, 5)]
HTML_404 = """<!DOCTYPE html>
<html>
<head><title>404 Not Found</title>
<style>body { font: 12px sans-serif }</style></head>
<body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
<hr><address>Apache/2.4.41 (Unix) Server at sap.example.com Port 50000</address>
</body>
</html>
"""


def _config(url: str, **overrides: object) -> dict:
    return {"service_layer_url": url, "company_db": "SBODEMOUS", "username": "manager",
            "password": SAP_PASSWORD, "request_timeout": 5, "max_retries": 1,
            "backoff_seconds": 0.01, **overrides}


def _one_line(run, *needles: str) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    errors = run.error_lines()
    assert len(errors) == 1, run.stderr[-3000:]
    assert all(n in errors[0] for n in needles), errors[0]
    assert SAP_PASSWORD not in run.stderr and "b1s-fake-session" not in run.stderr
    return errors[0]


def _logins(fake) -> int:
    return sum(1 for method, path, _ in fake.requests if method == "POST"
               and path.endswith("/Login"))


def _centers(pages: list[Answer]):
    """ProfitCenters answering `pages` in turn (the last one repeats)."""
    served = {"n": 0}

    def answer(_path: str) -> Answer:
        served["n"] += 1
        return pages[min(served["n"], len(pages)) - 1]

    return answer


# --- item 7: garbled 200 answers ----------------------------------------------------------------

def test_login_json_that_is_not_an_object_is_one_line(tmp_path):
    with fake_sap({"/Login": lambda _p: Answer(body=["not", "an", "object"],
                                               headers=LOGIN_OK.headers)}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
    _one_line(run, "Login", "not an object")


def test_two_session_cookies_from_login_are_one_line(tmp_path):
    doubled = Answer(body=LOGIN_OK.body, headers=[
        ("Set-Cookie", "B1SESSION=b1s-fake-session;HttpOnly;"),
        ("Set-Cookie", "B1SESSION=proxy-own-value; Path=/"),
        ("Set-Cookie", "ROUTEID=.node1; path=/b1s")])
    with fake_sap({"/Login": lambda _p: doubled,
                   "/ProfitCenters": lambda _p: Answer(body={"value": CENTERS})}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
    _one_line(run, "B1SESSION", "twice")
    assert not any(path.endswith("/ProfitCenters") for _m, path, _h in fake.requests)


@pytest.mark.parametrize("value,needle", [([{"CenterCode": "PC1"}, "PC2"], "not an object"),
                                          ({"CenterCode": "PC1"}, "not a list"),
                                          (None, "missing")])
def test_a_page_of_non_objects_is_one_line(tmp_path, value, needle):
    body = {"value": value} if value is not None else {"odata.metadata": "x"}
    with fake_sap({"/ProfitCenters": lambda _p: Answer(body=body)}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
    _one_line(run, "ProfitCenters", needle)
    assert run.output.records["profit_centers"] == []


def _invoice(**values: object) -> dict:
    return {"DocEntry": 7, "DocNum": 7, "CardCode": "C1", "DocDate": "2024-01-05",
            "UpdateDate": "2024-01-05", "UpdateTime": "10:00:00", **values}


def _invoices(row: dict):
    """Invoices answering every query (probe, keyset page) with `row`, and no untimed rows."""

    def answer(path: str) -> Answer:
        query = parse_qs(urlsplit(path).query)
        if "UpdateTime eq null" in query.get("$filter", [""])[0]:
            return Answer(body={"value": []})
        return Answer(body={"value": [row]})

    return answer


@pytest.mark.parametrize("field", ["DocDueDate", "TaxDate"])
def test_an_out_of_range_epoch_date_is_one_line_naming_record_and_field(tmp_path, field):
    row = _invoice(**{field: "/Date(99999999999999999)/"})
    with fake_sap({"/Invoices": _invoices(row)}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("invoices",))
    _one_line(run, "Invoices DocEntry 7", field, "out of range")


# --- item 5: a reference stream is never cut short silently ------------------------------------

@pytest.mark.parametrize("second_page", [
    Answer(body={"value": []}),
    Answer(body={"value": [], "odata.nextLink": "ProfitCenters?$skip=4"}),
    Answer(body={"value": "truncated"}),
])
def test_a_reference_page_mid_read_empty_or_not_a_list_is_an_error(tmp_path, second_page):
    first = Answer(body={"value": CENTERS[:2], "odata.nextLink": "ProfitCenters?$skip=2"},
                   headers=[("Preference-Applied", "odata.maxpagesize=2")])
    with fake_sap({"/ProfitCenters": _centers([first, second_page])}) as fake:
        run = run_cli(tmp_path, _config(fake.url, page_size=2), streams=("profit_centers",))
    _one_line(run, "ProfitCenters")


def test_a_complete_reference_read_still_ends_on_its_last_page(tmp_path):
    first = Answer(body={"value": CENTERS[:2], "odata.nextLink": "ProfitCenters?$skip=2"},
                   headers=[("Preference-Applied", "odata.maxpagesize=2")])
    last = Answer(body={"value": CENTERS[2:]})
    with fake_sap({"/ProfitCenters": _centers([first, last])}) as fake:
        run = run_cli(tmp_path, _config(fake.url, page_size=2), streams=("profit_centers",))
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["CenterCode"] for r in run.output.records["profit_centers"]] == [
        c["CenterCode"] for c in CENTERS]


# --- item 8: an HTML error page -----------------------------------------------------------------

def test_an_html_error_page_is_one_trimmed_line(tmp_path):
    page = Answer(404, HTML_404, content_type="text/html; charset=iso-8859-1")
    with fake_sap({"/ProfitCenters": lambda _p: page}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
    line = _one_line(run, "404", "404 Not Found")
    assert len(line) < 400
    assert "<" not in run.stderr and "Apache" not in run.stderr


def test_any_answer_text_becomes_one_short_line():
    from tap_sapb1.errors import one_line

    assert one_line(HTML_404) == "404 Not Found"
    assert one_line("<html><body><p>Bad\n gateway</p></body></html>") == "Bad gateway"
    assert one_line("line one\n\n   line two") == "line one line two"
    long = one_line("x " * 500)
    assert len(long) <= 200 and "\n" not in long


# --- item 9: -5002 that is not a lost session ---------------------------------------------------

def _error(code: int, text: str) -> Answer:
    return Answer(400, {"error": {"code": code, "message": {"lang": "en-us", "value": text}}})


def test_a_generic_5002_shows_sap_s_message_after_one_fresh_session(tmp_path):
    bare = _error(-5002, "Internal error (-5002) occurred")
    with fake_sap({"/ProfitCenters": lambda _p: bare}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
    line = _one_line(run, "-5002", "Internal error (-5002) occurred", "fresh session")
    assert "keeps rejecting" not in line
    assert _logins(fake) == 2  # the one new Login that tells the two apart


def test_a_5002_about_the_query_is_shown_at_once_without_a_new_login(tmp_path):
    refused = _error(-5002, "Invalid 'Code' value; specify a valid value")
    with fake_sap({"/ProfitCenters": lambda _p: refused}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
    _one_line(run, "-5002", "specify a valid value")
    assert _logins(fake) == 1


def test_a_5002_naming_the_session_logs_in_again_and_reads_on(tmp_path):
    lost = _error(-5002, "Session timeout; log in again (-5002)")
    ok = Answer(body={"value": CENTERS})
    with fake_sap({"/ProfitCenters": _centers([lost, ok])}) as fake:
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.output.records["profit_centers"]) == len(CENTERS)
    assert _logins(fake) == 2


# --- item 10: the secret filter and '%' ----------------------------------------------------------

def _filtered_logger() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(SecretFilter())
    logger = logging.getLogger("test-bad-answers.redact")
    logger.handlers[:] = [handler]
    logger.propagate = False
    return logger, out


def test_messages_with_percent_signs_survive_the_secret_filter(capsys):
    register_secret(SAP_PASSWORD)
    logger, out = _filtered_logger()
    try:
        raise ValueError(f"GET /b1s/v1/Invoices?$filter=a%20eq%20'{SAP_PASSWORD}' failed 100%")
    except ValueError as exc:
        logger.error("SAP request %s failed", "/Invoices?$filter=CardCode%20eq%20'C%201'",
                     exc_info=exc)
    text = out.getvalue()
    assert "SAP request /Invoices?$filter=CardCode%20eq%20'C%201' failed" in text
    assert "failed 100%" in text and MASK in text
    assert SAP_PASSWORD not in text + capsys.readouterr().err
    assert "Logging error" not in capsys.readouterr().err


def test_a_broken_format_string_still_masks_the_secret(capsys):
    register_secret(SAP_PASSWORD)
    logger, out = _filtered_logger()
    logger.warning("login %d failed for %s", "not-a-number", SAP_PASSWORD)
    text = out.getvalue() + capsys.readouterr().err
    assert "login" in out.getvalue() and SAP_PASSWORD not in text


# --- item 11: nextLinks stay on the service root -------------------------------------------------

@pytest.mark.parametrize("elsewhere", ["other-port", "https"])
def test_a_next_link_to_another_host_is_refused_and_gets_no_cookie(tmp_path, elsewhere):
    with fake_sap({"/ProfitCenters": lambda _p: Answer(body={"value": CENTERS})}) as other, \
            fake_sap({}) as fake:
        target = (other.url if elsewhere == "other-port"
                  else fake.url.replace("http://", "https://"))
        first = Answer(body={"value": CENTERS[:2],
                             "odata.nextLink": f"{target}/ProfitCenters?$skip=2"},
                       headers=[("Preference-Applied", "odata.maxpagesize=2")])
        fake.routes["/ProfitCenters"] = lambda _p: first
        run = run_cli(tmp_path, _config(fake.url, page_size=2), streams=("profit_centers",))
        _one_line(run, "nextLink", "will not send the session")
        assert not any("ProfitCenters" in path for _m, path, _h in other.requests)


# --- the same answers from the SAP sandbox's robustness faults -----------------------------------

@pytest.mark.parametrize("kind,path,at,stream,needles", [
    ("not-object", "Login", 1, "profit_centers", ("Login", "not an object")),
    ("two-cookies", "Login", 1, "profit_centers", ("B1SESSION", "twice")),
    ("non-object-items", "ProfitCenters", 1, "profit_centers", ("not an object",)),
    ("non-list-page", "ProfitCenters", 2, "profit_centers", ("not a list",)),
    ("empty-page", "ProfitCenters", 2, "profit_centers", ("empty page", "ProfitCenters")),
    ("bad-date", "Invoices", 1, "invoices", ("Invoices", "not a date")),
    ("bad-date", "Invoices", 3, "invoices", ("Invoices DocEntry", "out of range")),
    ("foreign-nextlink", "ProfitCenters", 1, "profit_centers", ("nextLink", "localhost")),
    ("html-404", "ProfitCenters", 1, "profit_centers", ("404",)),
    ("5002", "ProfitCenters", 1, "profit_centers", ("-5002", "Document is already cancelled")),
])
def test_each_sandbox_robustness_fault_is_one_line(make_sandbox, tmp_path, kind, path, at,
                                                    stream, needles):
    sb = make_sandbox()
    sb.add_fault(kind, at=at, path_contains=path)
    config = {"service_layer_url": sb.url, "company_db": "SBODEMOUS", "username": "manager",
              "password": SAP_PASSWORD, "page_size": 3, "max_retries": 1,
              "backoff_seconds": 0.01, "request_timeout": 5}
    run = run_cli(tmp_path, config, streams=(stream,))
    line = _one_line(run, *needles)
    assert "<" not in line and "\n" not in line
    if kind == "foreign-nextlink":  # localhost:<port> is this sandbox too: it saw no 2nd page
        assert sb.count(path_contains="ProfitCenters") == 1
    if kind == "5002":  # SAP refusing the request is not a lost session: no new Login
        assert sb.count(path_contains="/Login") == 1


# --- item 11: redirects never carry the password or the session elsewhere -----------------------

def _redirect(location: str, status: int = 307) -> Answer:
    return Answer(status, b"", headers=[("Location", location)])


@pytest.mark.parametrize("status", [307, 308])
def test_a_login_redirected_to_another_host_never_sends_the_password_there(tmp_path, status):
    with fake_sap({}) as other, fake_sap({}) as fake:
        fake.routes["/Login"] = lambda _p: _redirect(f"{other.url}/Login", status)
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
        assert not any(path.endswith("/Login") for _m, path, _h in other.requests)
    _one_line(run, "redirect")


def test_a_page_redirected_to_another_host_gets_no_session_cookie(tmp_path):
    with fake_sap({"/ProfitCenters": lambda _p: Answer(body={"value": CENTERS})}) as other, \
            fake_sap({}) as fake:
        fake.routes["/ProfitCenters"] = lambda p: _redirect(f"{other.url}/ProfitCenters", 302)
        run = run_cli(tmp_path, _config(fake.url), streams=("profit_centers",))
        assert not any("b1s-fake-session" in str(headers) for _m, _p, headers in other.requests)
        assert not any("ProfitCenters" in path for _m, path, _h in other.requests)
        elsewhere = other.url.split("//", 1)[1].split("/", 1)[0]
    line = _one_line(run, "redirect", f"{elsewhere}/b1s/v1/ProfitCenters")
    assert "HTTP 302" in line


@pytest.mark.parametrize("status", [401, 500])
def test_a_password_with_percent_signs_echoed_by_sap_never_reaches_a_line(tmp_path, status):
    password = "Pa%s%20w%%d-42"
    echoed = {"error": {"code": -304, "message": {
        "lang": "en-us", "value": f"Login {password} refused for manager (100% sure)"}}}
    with fake_sap({"/Login": lambda _p: Answer(status, echoed)}) as fake:
        run = run_cli(tmp_path, _config(fake.url, password=password), streams=("profit_centers",))
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert len(run.error_lines()) == 1, run.stderr[-3000:]
    assert password not in run.stderr + run.stdout
    assert "Logging error" not in run.stderr


# --- item 4 for reference sets: a server that repeats a page never loops ------------------------

@pytest.mark.parametrize("link", ["ProfitCenters?$skip=2", None], ids=["next-link", "skip"])
def test_a_reference_server_answering_the_same_page_again_stops_with_one_line(tmp_path, link):
    """A nextLink that leads to the same page again, or (page size ignored: $top/$skip) a
    server that ignores $skip, looped forever or emitted every record twice."""
    if link:
        first = Answer(body={"value": CENTERS[:2], "odata.nextLink": link},
                       headers=[("Preference-Applied", "odata.maxpagesize=2")])
        pages = [first, first]
    else:  # 2 of 3 asked for and a nextLink: the tap pages by $top=3&$skip=N, ignored here
        first = Answer(body={"value": CENTERS[:2], "odata.nextLink": "ProfitCenters?$skip=2"})
        pages = [first, Answer(body={"value": CENTERS[:3]})]
    with fake_sap({"/ProfitCenters": _centers(pages)}) as fake:
        run = run_cli(tmp_path, _config(fake.url, page_size=2 if link else 3),
                      streams=("profit_centers",), timeout=30)
        pages = sum(1 for _m, path, _h in fake.requests if "ProfitCenters" in path)
    _one_line(run, "ProfitCenters", "same page")
    assert pages <= 3
