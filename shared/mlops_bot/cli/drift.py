"""``mlops-bot drift``: compare a reference and a current dataset from the shell or a CI job.

Exit status is 0 whenever drift was computed, drifted or not - the verdict is in the output, so scripts read
``dataset_drift`` from ``--json`` - and 2 when an input cannot be read or the options are invalid, with the
reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_bot.drift import DriftOptions, DriftReport, S3ObjectReader

EXIT_OK = 0
EXIT_BAD_INPUT = 2
# `mlops_bot.drift.report.TestChoice`, spelled out so that building the parser does not import SciPy
# (tests/unit/drift/test_drift_cli.py checks that they agree).
TEST_CHOICES = ("auto", "ks", "psi", "wasserstein", "jensenshannon", "chisquare")


def _column_list(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="detect data drift between a reference and a current dataset",
        description="Per-column data drift (KS, PSI, Wasserstein, Jensen-Shannon, chi-square) between two "
        "CSV or Parquet datasets, local or s3://bucket/key.",
    )
    parser.add_argument("--reference", required=True, help="reference dataset: path or s3://bucket/key")
    parser.add_argument("--current", required=True, help="current dataset: path or s3://bucket/key")
    parser.add_argument(
        "--test",
        choices=TEST_CHOICES,
        default="auto",
        help="statistical test for every column (default: auto, chosen per column as Evidently does)",
    )
    parser.add_argument("--columns", type=_column_list, help="comma-separated columns to compare")
    parser.add_argument(
        "--categorical",
        type=_column_list,
        default=[],
        help="comma-separated numeric columns to treat as categories",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="threshold for every column's test (p-value for ks/chisquare, distance otherwise)",
    )
    parser.add_argument(
        "--drift-share", type=float, help="share of drifted columns that means dataset drift (default 0.5)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace) -> DriftOptions:
    from mlops_bot.drift import DriftOptions

    fields: dict[str, Any] = {
        "test": args.test,
        "columns": args.columns,
        "categorical_columns": args.categorical,
    }
    if args.threshold is not None:
        fields["threshold"] = args.threshold
    if args.drift_share is not None:
        fields["drift_share_threshold"] = args.drift_share
    return DriftOptions(**fields)


def _s3_client(args: argparse.Namespace) -> S3ObjectReader | None:
    if not any(location.startswith("s3://") for location in (args.reference, args.current)):
        return None
    import boto3  # deferred: local comparisons should not pay for boto3's import

    client: S3ObjectReader = boto3.client("s3")
    return client


def report_json(report: DriftReport) -> dict[str, Any]:
    """The ``--json`` document: exactly these keys, so scripts can rely on them."""
    return {
        "columns": {
            name: {
                "test": column.test,
                "statistic": column.statistic,
                "p_value": column.p_value,
                "threshold": column.threshold,
                "drifted": column.drifted,
            }
            for name, column in report.columns.items()
        },
        "drift_share": report.drift_share,
        "dataset_drift": report.dataset_drift,
    }


def report_table(report: DriftReport) -> str:
    """A fixed-width table for humans, one row per column, then the dataset verdict."""
    name_width = max([len("column"), *(len(name) for name in report.columns)])
    header = f"{'column':<{name_width}}  {'type':<11}  {'test':<13}  {'statistic':>10}  {'p-value':>10}  "
    lines = [header + f"{'threshold':>9}  drifted"]
    for name, column in report.columns.items():
        p_value = "-" if column.p_value is None else f"{column.p_value:.4g}"
        lines.append(
            f"{name:<{name_width}}  {column.column_type:<11}  {column.test:<13}  {column.statistic:>10.4g}  "
            f"{p_value:>10}  {column.threshold:>9.4g}  {'YES' if column.drifted else 'no'}"
        )
    for name, reason in report.skipped_columns.items():
        lines.append(f"{name:<{name_width}}  skipped: {reason}")
    verdict = "DATASET DRIFT" if report.dataset_drift else "no dataset drift"
    lines.append(
        f"\n{report.number_of_drifted_columns} of {report.number_of_columns} columns drifted "
        f"(drift share {report.drift_share:.3f}, threshold {report.drift_share_threshold:g}): {verdict}"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from mlops_bot.cli.progress import Progress

    progress = Progress(enabled=not args.json)  # a terminal's stderr only: pipes and --json stay quiet
    progress.update("loading the numeric stack...", force=True)
    from mlops_bot.drift import DatasetError, compute_drift, load_table

    try:
        with progress:
            options = _options(args)
            s3_client = _s3_client(args)
            progress.update(f"reading reference {args.reference}...", force=True)
            reference = load_table(args.reference, s3_client)
            progress.update(f"reading current {args.current}...", force=True)
            current = load_table(args.current, s3_client)
            progress.update(f"comparing {reference.num_columns} columns of {current.num_rows:,} rows...", force=True)
            report = compute_drift(reference, current, options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"mlops-bot drift: invalid options: {problems}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (DatasetError, ValueError) as exc:
        print(f"mlops-bot drift: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(report_json(report)))
        for name, reason in report.skipped_columns.items():  # stdout stays the exact JSON document
            print(f"mlops-bot drift: skipped column {name}: {reason}", file=sys.stderr)
    else:
        print(report_table(report))
    return EXIT_OK
