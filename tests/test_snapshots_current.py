"""The committed snapshots/ are what the code synthesizes now (so MR diffs show the change)."""

from __future__ import annotations

from conftest import REPO, Synth

from snapshots import committed, compare, report, synthesized


def test_the_committed_snapshots_match_this_synth(synth: Synth) -> None:
    result = compare(synthesized(synth.outdir, REPO), committed(REPO / "snapshots"), REPO / "snapshots")
    assert result.current, report(result) + "\nrun `make snapshots` and commit snapshots/"
