"""`python -m bench.mutations`: break the code on purpose and show which test notices.

Each mutation is a text edit of one package file. It is applied to a copy of that package in a
temp folder put first on PYTHONPATH (the repository is never edited; the editable installs
come after PYTHONPATH), then the tests named to catch it run under pytest. A mutation is
"caught" when those tests fail with it and pass without it (the baseline). Prints a table:
mutation → caught by which test.

    .venv/bin/python -m bench.mutations            # every mutation (a few minutes)
    .venv/bin/python -m bench.mutations --list     # names only
    .venv/bin/python -m bench.mutations mapping-raises-typeerror replay-zero-lock-wait
    .venv/bin/python -m bench.mutations --slow      # also the chaos-suite ones (slower)
    .venv/bin/python -m bench.mutations --before c2ff223   # and the suite before issue 14

Exit 1 when a mutation slips through (or a baseline fails).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"target_hubspot_finance": REPO / "target-hubspot-finance",
            "tap_sapb1": REPO / "tap-sapb1",
            "hubspot_sandbox": REPO / "tests" / "sandbox",
            "sap_sandbox": REPO / "tests" / "sandbox"}


@dataclass(frozen=True)
class Mutation:
    """`old` (which must occur in `path`) becomes `new`; `tests` must then fail."""

    name: str
    issue_item: str
    path: str          # e.g. "target_hubspot_finance/mapping.py"
    old: str
    new: str
    tests: tuple[str, ...]
    slow: bool = False
    append: bool = False  # `new` is appended to the file (old must still occur)
    before: tuple[str, ...] | None = None  # the tests that stood for `tests` before (--before)
    # the tests run the code as a Meltano plugin, which Meltano starts without PYTHONPATH: run
    # them in a copy of the working tree holding the mutant (the plugins install from it)
    in_tree_copy: bool = False


MAPPERS = ("map_company", "map_contact", "map_invoice", "map_line_item", "map_tax_line",
           "payment_applications", "map_payment", "credit_applications", "line_problem")

PROPS = "tests/target/test_mapping_properties.py::"
WELL_FORMED = tuple(PROPS + t for t in (
    "test_every_well_formed_business_partner_maps_to_properties_hubspot_accepts",
    "test_every_well_formed_invoice_and_line_maps_to_properties_hubspot_accepts",
    "test_every_well_formed_payment_maps_to_properties_hubspot_accepts"))
FC_PROPS = "tests/target/test_fc_payment_properties.py::"
NON_FINITE = tuple(PROPS + f"test_a_non_finite_{t}_amount_is_refused"
                   for t in ("company", "invoice", "line", "payment"))

MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "mapping-raises-typeerror", "14.1",
        "target_hubspot_finance/mapping.py", "def map_company(",
        "\n\ndef _mutant(*args, **kwargs):\n    raise TypeError('mutant')\n\n\n"
        f"for _name in {MAPPERS!r}:\n    globals()[_name] = _mutant\n",
        WELL_FORMED, append=True, before=(PROPS.rstrip(":"),)),
    Mutation(
        "mapping-passes-nan", "14.1",
        "target_hubspot_finance/mapping.py", "def num(",
        "\n\ndef num(value, name=None):\n    if value in (None, ''):\n        return None\n"
        "    if isinstance(value, bool):\n        raise MappingError(f'not a number: {value!r}')\n"
        "    try:\n        return float(value)\n    except (TypeError, ValueError):\n"
        "        raise MappingError(f'not a number: {value!r}') from None\n",
        NON_FINITE, append=True, before=(PROPS.rstrip(":"),)),
    Mutation(
        "mapping-money-as-decimal", "14.1",
        "target_hubspot_finance/mapping.py", "def money(",
        "\n\n_money = money\n\n\n"
        "def money(*args, **kwargs):\n    out = _money(*args, **kwargs)\n"
        "    return None if out is None else __import__('decimal').Decimal(str(out))\n",
        WELL_FORMED, append=True, before=(PROPS.rstrip(":"),)),
    Mutation(
        "replay-zero-lock-wait", "14.2",
        "target_hubspot_finance/ledger.py", '{"timeout": lock_timeout}', '{"timeout": 0}',
        ("tests/tools/test_deadletter_claims.py",)),
    Mutation(
        "replay-claims-everything", "14.2",
        "target_hubspot_finance/commands/claims.py",
        "        except IntegrityError:\n            continue\n",
        "        except IntegrityError:\n            pass\n",
        ("tests/tools/test_deadletter_claims.py",)),
    Mutation(
        "reconcile-ignores-meltano-tap-config", "14.3",
        "target_hubspot_finance/commands/reconcile.py",
        "            merged |= _meltano_settings(arg.split(\":\", 1)[1])\n",
        "            pass\n",
        ("tests/tools/test_meltano_commands.py::"
         "test_operator_commands_of_two_companies_under_meltano",), slow=True,
        in_tree_copy=True),
    Mutation(
        "replay-ignores-key-namespace", "14.3",
        "target_hubspot_finance/commands/replay.py",
        '    return config.get("key_namespace") or None\n', "    return None\n",
        ("tests/tools/test_namespaces.py::"
         "test_replay_of_one_company_touches_only_its_own_dead_letter",)),
    Mutation(
        "draft-reason-says-only-draft", "14.4",
        "target_hubspot_finance/sinks/invoices.py",
        """plan.notes.append(f"draft: no {' and no '.join(missing)} (SAP status {status})")""",
        'plan.notes.append("draft")',
        ("tests/target/test_sync.py::"
         "test_an_invoice_without_contact_stays_draft_and_is_reported",)),
    Mutation(
        "timed-out-create-retry-reported-failed", "14.4",
        "target_hubspot_finance/hubspot/batches.py",
        "written.conflicts[key] = existing", "written.failed[key] = err",
        ("tests/target/test_client.py::test_a_timed_out_create_is_not_doubled_by_its_retry",),
        before=("tests/target/test_client.py::"
                "test_a_timeout_and_a_dropped_connection_are_retried",)),
    Mutation(
        "malformed-stamp-raw-valueerror", "14.4",
        "tap_sapb1/incremental.py", "        except StampError as exc:",
        "        except KeyError as exc:",
        ("tests/chaos/test_properties_tap.py::"
         "test_a_malformed_stamp_never_becomes_a_bogus_bookmark",)),
    Mutation(
        "malformed-stamp-record-dropped", "14.4",
        "tap_sapb1/discovery.py",
        "        row = super().post_process(row, context) or row  # type: ignore[misc]\n",
        "        try:\n            row = super().post_process(row, context) or row\n"
        "        except ValueError:\n            return None  # silently drops the record\n",
        ("tests/chaos/test_properties_tap.py::"
         "test_a_malformed_stamp_never_becomes_a_bogus_bookmark",)),
    Mutation(
        "payments-resume-skips-after-bookmark", "R14",
        "tap_sapb1/streams/payments.py", "        self._floor = bookmark\n",
        "        self._floor = bookmark + 5\n",
        ("tests/tap/test_payments.py::"
         "test_a_run_killed_mid_read_loses_no_payment_when_resumed",)),
    Mutation(
        "sap-error-line-vague", "14.4",
        "tap_sapb1/errors.py", 'return f"SAP kept failing after all retries: {exc}"',
        'return "SAP error"',
        ("tests/chaos/test_faults.py::"
         "test_sap_faults_beyond_max_retries_fail_with_one_clear_line_and_a_rerun_completes",),
        slow=True),
    Mutation(
        "rate-limit-headers-ignored", "14.4",
        "target_hubspot_finance/hubspot/rate_limit.py",
        "    def observe(self, headers: Mapping[str, str]) -> None:\n",
        "    def observe(self, headers: Mapping[str, str]) -> None:\n        return\n",
        ("tests/chaos/test_rate_limit_storm.py",), slow=True),
    Mutation(
        "rate-limit-window-from-send-time", "14.10",
        "target_hubspot_finance/hubspot/rate_limit.py",
        "                ticket[0] = self._clock()\n", "                pass\n",
        ("tests/target/test_shared_limiter.py::"
         "test_the_local_limiter_counts_the_window_from_each_answer",)),
    Mutation(
        "shared-limiter-host-clock", "14.10",
        "target_hubspot_finance/hubspot/shared_limit.py",
        "                if row is not None and row.server_now is not None:\n",
        "                if False:\n",
        ("tests/target/test_shared_limiter.py::"
         "test_processes_on_hosts_with_skewed_clocks_share_the_window_on_postgresql",)),
    Mutation(
        "standard-target-companies-never-written", "14.5",
        "target_hubspot_finance/sinks/companies.py",
        "        if changed:\n            rt.ensure_ready()",
        "        changed = {}\n        if changed:\n            rt.ensure_ready()",
        ("tests/target/test_standard_target.py",)),
    Mutation(
        "text-drops-non-ascii", "14.5",
        "target_hubspot_finance/mapping.py", "    out = str(value).strip()\n",
        "    out = str(value).strip().encode('ascii', 'ignore').decode()\n",
        ("tests/target/test_standard_target.py::TestTargetHubSpotFinanceStandard::"
         "test_target_encoded_string_data",)),
    Mutation(
        "cancel-reopen-refusal-only-logged", "gap-A",
        "target_hubspot_finance/sinks/payments.py",
        "        return {p: err for k, err in refused.items() for p in owners[k]}\n",
        "        return {}\n",
        ("tests/target/test_reopen_failures.py::"
         "test_a_cancelled_payment_whose_invoice_hubspot_would_not_reopen_is_dead_lettered",)),
    Mutation(
        "ledger-locked-bare-sqlite-line", "gap-B",
        "target_hubspot_finance/ledger.py",
        "    def __str__(self) -> str:\n        return self.text\n", "",
        ("tests/target/test_ledger_lock.py",)),
    Mutation(
        "cancel-of-unconfirmed-payment-keeps-invoice-paid", "review gap-A",
        "target_hubspot_finance/sinks/payments.py",
        "if k in prior or k in counted}", "if k in prior}",
        ("tests/target/test_reopen_failures.py::"
         "test_a_payment_dead_lettered_then_cancelled_reopens_the_invoice_it_had_paid",)),
    Mutation(
        "ledger-locked-line-cut", "review gap-B",
        "target_hubspot_finance/target.py",
        "            if not isinstance(exc, LedgerLockedError):", "            if True:",
        ("tests/target/test_ledger_lock.py::"
         "test_cli_names_the_fix_whole_for_a_ledger_in_a_deep_project_folder",)),
    Mutation(
        "recreated-invoice-failed-by-dead-id-links", "review",
        "target_hubspot_finance/sinks/invoices.py",
        "                unlinked.pop(key, None)", "                pass",
        ("tests/target/test_links.py::"
         "test_an_invoice_deleted_in_hubspot_and_created_again_is_not_failed_by_its_stale_id_links",)),
    Mutation(
        "assoc-halving-unbounded", "gap-C",
        "target_hubspot_finance/hubspot/client.py", "budget=budget_for(len(chunk))",
        "budget=None",
        ("tests/target/test_links.py::"
         "test_a_whole_call_refusal_is_isolated_within_a_bounded_number_of_calls",)),
    Mutation(
        "assoc-budget-after-a-part-went-through", "gap-C",
        "target_hubspot_finance/hubspot/isolate.py", "through = through or error is None",
        "through = False",
        ("tests/target/test_links.py::"
         "test_dense_refused_links_dead_letter_only_their_own_invoices_in_the_first_run",)),
    Mutation(
        "early-check-mark-stays", "early payments", "tap_sapb1/streams/early_payments.py",
        "    return by_customer, max(start, following or since)",
        "    return by_customer, since",
        ("tests/tap/test_early_payments.py::"
         "test_a_later_run_with_no_old_invoice_changed_asks_for_no_early_payment",)),
    Mutation(
        "early-payment-twice-in-a-run", "early payments", "tap_sapb1/streams/payments.py",
        "                if int(row[\"DocEntry\"]) not in self._read_early:\n"
        "                    self._read_early.add(int(row[\"DocEntry\"]))\n",
        "                if True:\n",
        ("tests/tap/test_early_payments.py::"
         "test_a_new_payment_dated_before_start_date_is_emitted_once_in_a_run",)),
    Mutation(
        "early-window-reread-skipped", "early payments", "tap_sapb1/streams/payments.py",
        "            if reread is not None and reread < start and since != start:",
        "            if False:",
        ("tests/tap/test_early_payments.py::"
         "test_an_early_payment_within_the_reread_window_cancelled_later_is_emitted_again",)),
    Mutation(
        "early-payments-skipped", "early payments", "tap_sapb1/streams/payments.py",
        "        if start is None:\n            return\n", "        if True:\n            return\n",
        ("tests/tap/test_early_payments.py::"
         "test_hubspot_balance_due_counts_payments_dated_before_start_date",)),
    Mutation(
        "payment-deductions-dropped", "discount/withholding", "target_hubspot_finance/mapping.py",
        "for s in slots] + used + settled", "for s in slots] + used",
        ("tests/tap/test_payment_deductions.py",
         "tests/target/test_payment_deduction_mapping.py")),
    Mutation(
        "payment-deductions-counted-as-money", "discount/withholding",
        "target_hubspot_finance/mapping.py",
        "        if self.method is not None and self.local_amount is not None:",
        "        if False:",
        ("tests/target/test_payment_deduction_mapping.py::"
         "test_discount_and_withholding_are_their_own_applications_on_the_invoice",)),
    Mutation(
        "closed-invoice-open-balance", "discount/withholding", "target_hubspot_finance/mapping.py",
        '    elif record.get("DocumentStatus") == "bost_Close":', "    elif False:",
        ("tests/tap/test_payment_deductions.py",)),
    Mutation(
        "reopen-forgets-deductions", "discount/withholding",
        "target_hubspot_finance/sinks/payments.py",
        "                if a.invoice_key:\n                    rows[mapping.SETTLED]",
        "                if a.invoice_key and a.method is None:\n"
        "                    rows[mapping.SETTLED]",
        ("tests/tap/test_payment_deductions.py::test_cancelling_the_other_payment_of_a_"
         "discounted_invoice_leaves_sap_s_open_amount",)),
    Mutation(
        "reopen-mixes-local-and-invoice-currency", "discount/withholding",
        "target_hubspot_finance/sinks/payments.py",
        "        newer = ledger.application_sources(mapping.SETTLED, invoices)",
        "        newer, out = {}, {}",
        ("tests/tap/test_payment_deductions.py::test_cancelling_the_other_payment_of_a_"
         "discounted_invoice_leaves_sap_s_open_amount[EUR]",)),
    Mutation(
        "reopen-sets-status-on-draft", "discount/withholding",
        "target_hubspot_finance/sinks/payments.py",
        '"hs_invoice_status": None if key in drafts else status,', '"hs_invoice_status": status,',
        ("tests/tap/test_payment_deductions.py::test_cancelling_the_other_payment_of_a_"
         "discounted_invoice_leaves_sap_s_open_amount",)),
    Mutation(
        "fc-transfer-sum-taken-as-is", "fc payments", "target_hubspot_finance/mapping.py",
        '        sums["bank transfer"] = _foreign_transfer(record, sums)\n', "        pass\n",
        ("tests/tap/test_fc_payments_to_hubspot.py::test_foreign_currency_payments_reach_"
         "hubspot_in_the_invoice_s_currency",)),
    Mutation(
        "fc-transfer-credit-note-sign", "fc payments", "target_hubspot_finance/mapping.py",
        'return sum(-abs(v) if li.get("InvoiceType") == CREDIT_NOTE_LINE else v',
        'return sum(-v if li.get("InvoiceType") == CREDIT_NOTE_LINE else v',
        (FC_PROPS + "test_a_local_transfer_of_a_payment_using_a_credit_note_is_read_whatever_"
         "its_sign",)),
    Mutation(
        "fc-transfer-fc-reading-first", "fc payments", "target_hubspot_finance/mapping.py",
        "local_gap <= cents and local_gap < abs(transfer + others - paid_fc):",
        "local_gap <= cents and abs(transfer + others - paid_fc) > cents:",
        (FC_PROPS + "test_a_small_local_transfer_beside_eur_cash_makes_no_cent_on_account",)),
    Mutation(
        "fc-transfer-no-payment-rate", "fc payments", "target_hubspot_finance/mapping.py",
        "                    abs(transfer - (paid_fc - others) * rate))",
        "                    abs(transfer + others * rate - paid_local))",
        (FC_PROPS + "test_a_local_transfer_at_a_later_rate_than_the_invoice_s_is_read_in_eur",)),
)


def copy_with(mutation: Mutation | None, into: Path) -> None:
    """Copy the package the mutation edits into `into` and apply the edit there."""
    if mutation is None:
        return
    package = mutation.path.split("/", 1)[0]
    shutil.copytree(PACKAGES[package] / package, into / package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    apply(mutation, into / mutation.path)


def tree_with(mutation: Mutation | None, into: Path) -> Path:
    """The working tree (tracked and untracked, not ignored files) copied into `into`, with the
    mutation applied to its package source there; returns `into`."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True, timeout=120).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    if mutation is not None:
        package = mutation.path.split("/", 1)[0]
        apply(mutation, into / PACKAGES[package].relative_to(REPO) / mutation.path)
    return into


def apply(mutation: Mutation, target: Path) -> None:
    """Edit `target` (a copy) as the mutation says."""
    source = target.read_text()
    if mutation.old not in source:
        raise SystemExit(f"{mutation.name}: the code it mutates has changed "
                         f"({mutation.old!r} not in {mutation.path}); update bench/mutations.py")
    edited = source + mutation.new if mutation.append else source.replace(mutation.old,
                                                                          mutation.new, 1)
    target.write_text(edited)


def run_tests(mutation: Mutation | None, tests: tuple[str, ...], cwd: Path = REPO,
              in_tree_copy: bool = False) -> tuple[bool, list[str]]:
    """(passed, failing test ids) for `tests` with the mutation applied (None: baseline); in a
    copy of the working tree when `in_tree_copy` (the baseline too, so both run alike)."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy_with(mutation, Path(tmp))
        if in_tree_copy and cwd == REPO:
            cwd = tree_with(mutation, Path(tmp) / "tree")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [tmp, *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
             "--hypothesis-seed=0", *tests],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    failed = sorted({line.split()[1].split("::", 1)[-1].split("[")[0]
                     for line in result.stdout.splitlines()
                     if line.startswith(("FAILED ", "ERROR "))})
    if result.returncode not in (0, 1):
        failed = failed or [f"pytest exit {result.returncode}: {result.stdout[-300:]}"]
    return result.returncode == 0, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="only these mutations")
    parser.add_argument("--slow", action="store_true", help="include the chaos-suite ones")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--before", metavar="REV",
                        help="also run the same test files as they were at git REV (e.g. "
                             "c2ff223, before issue 14): shows the mutation slipping through them")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if (not args.names or m.name in args.names)
              and (args.slow or not m.slow or m.name in args.names)]
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:42} issue {m.issue_item:5} {m.path}{'  (slow)' if m.slow else ''}")
        return 0
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutation(s): {', '.join(sorted(unknown))}")

    old_tree = old_suite(args.before) if args.before else None
    rows: list[tuple[str, str, str, str]] = []
    baselines: dict[tuple[str, ...], tuple[bool, list[str]]] = {}
    for m in chosen:
        if (m.tests, m.in_tree_copy) not in baselines:
            baselines[m.tests, m.in_tree_copy] = run_tests(None, m.tests,
                                                           in_tree_copy=m.in_tree_copy)
        base_ok, base_failed = baselines[m.tests, m.in_tree_copy]
        ok, failed = run_tests(m, m.tests, in_tree_copy=m.in_tree_copy)
        if not base_ok:
            verdict, by = "BASELINE FAILS", ", ".join(base_failed) or "?"
        elif ok:
            verdict, by = "SLIPPED THROUGH", "-"
        else:
            verdict, by = "caught", ", ".join(failed[:3]) + (
                f" (+{len(failed) - 3} more)" if len(failed) > 3 else "")
        if old_tree is not None:
            verdict += f" (at {args.before}: {before_verdict(m, old_tree)})"
        rows.append((m.name, m.issue_item, verdict, by))
        print(f"  {m.name}: {verdict}", file=sys.stderr, flush=True)

    width = max([len(r[0]) for r in rows] + [8])
    vwidth = max([len(r[2]) for r in rows] + [15])
    print(f"{'mutation':{width}}  item   {'verdict':{vwidth}}  caught by")
    for name, item, verdict, by in rows:
        print(f"{name:{width}}  {item:5}  {verdict:{vwidth}}  {by}")
    if old_tree is not None:
        shutil.rmtree(old_tree, ignore_errors=True)
    return 0 if all(r[2].startswith("caught") for r in rows) else 1


def old_suite(rev: str) -> Path:
    """tests/, bench/ and pyproject.toml as they were at git `rev`, in a temp folder."""
    into = Path(tempfile.mkdtemp(prefix="suite-before-"))
    archive = subprocess.run(["git", "archive", rev, "tests", "bench", "pyproject.toml"],
                             cwd=REPO, capture_output=True, check=True, timeout=120).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True, timeout=120)
    return into


def before_verdict(m: Mutation, old_tree: Path) -> str:
    """What the same test files, as they were, made of the mutation."""
    tests = m.before or m.tests
    if not all((old_tree / t.split("::", 1)[0]).is_file() for t in tests):
        return "no such test file"
    base_ok, _ = run_tests(None, tests, cwd=old_tree)
    if not base_ok:
        return "its baseline fails"
    ok, _ = run_tests(m, tests, cwd=old_tree)
    return "slipped through" if ok else "caught"


if __name__ == "__main__":
    raise SystemExit(main())
