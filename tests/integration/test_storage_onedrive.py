"""The OneDrive evidence store against the Graph fake's drive on a real socket (tests/fakes/graph_api.py,
tests/fakes/graph_drive.py): `evidence/<pupil key>/` beside the workbook, simple uploads up to 4 MB, upload sessions
above, and the faults (503, 429 with Retry-After, a lost answer, an outage, a refusal), each bounded."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator

import pytest
from openpyxl import Workbook

from connectors.storage_onedrive import (
    FRAGMENT_BYTES,
    OneDriveEvidenceStore,
    OneDrivePolicy,
    OneDriveRefused,
    OneDriveUnavailable,
)
from tests.fakes.graph_api import FakeGraphServer, FakeItem, Fault

LINK = "https://oakfield.sharepoint.com/:x:/s/SEND/EStoreStoreStore?e=St0re"
PDF = b"%PDF-1.4\r\n\r\nbinary\x00\xff\r\n%%EOF"
KEY = "B801200005001"
BIG = b"%PDF-1.7\n" + hashlib.sha256(b"seed").digest() * (6 * 1024 * 1024 // 32) + b"\n%%EOF\n"  # 6 MB


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraphServer, FakeItem]]:
    with FakeGraphServer() as fake:
        item = fake.add_workbook(Workbook(), sharing_url=LINK)
        item.parent_id = "D-SEND-FOLDER"  # the workbook sits in a "SEND" folder, not the drive's root
        yield fake, item


def store(fake: FakeGraphServer, slept: list[float] | None = None, **policy: float) -> OneDriveEvidenceStore:
    return OneDriveEvidenceStore(
        LINK,
        lambda force_refresh=False: "test-token",
        graph_root=f"http://{fake.host}/v1.0",
        policy=OneDrivePolicy(
            timeout_s=(2.0, policy.get("read", 5.0)),
            attempts=int(policy.get("attempts", 3)),
            backoff_s=0.01,
            backoff_cap_s=0.02,
            longest_wait_s=policy.get("longest", 5.0),
            deadline_s=policy.get("deadline", 20.0),
        ),
        sleep=(slept.append if slept is not None else time.sleep),
        clock=(lambda: sum(slept)) if slept is not None else time.monotonic,  # time passes as the store sleeps
    )


def _folder(fake: FakeGraphServer, item: FakeItem) -> None:
    """The workbook's own folder, as the drive has it (the fake needs it to exist to make children in it)."""
    from tests.fakes.graph_drive import DriveNode

    fake.nodes[(item.drive_id, item.parent_id)] = DriveNode(item.drive_id, item.parent_id, "SEND", "root", True)


def test_first_use_makes_evidence_beside_the_workbook_and_uploads(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    kept = store(fake).save_file(KEY, "2026-11-29-ep-abc.pdf", PDF, "application/pdf")
    assert fake.evidence_beside(item) == {KEY: {"2026-11-29-ep-abc.pdf": PDF}}  # bytes exactly, \r\n and all
    (evidence,) = [n for n in fake.children_of(item.drive_id, item.parent_id) if n.name == "evidence"]
    assert evidence.folder
    assert kept.location == fake.child(item.drive_id, fake.child(item.drive_id, evidence.id, KEY).id, kept.name).id
    put = next(r for r in fake.graph_log if r.method == "PUT")
    assert put.path.endswith(":/2026-11-29-ep-abc.pdf:/content")
    # A second store (another request, another instance) finds the same folders: none made twice.
    again = store(fake)
    again.save_text(KEY, "sub1", json.dumps({"id": "sub1"}))
    assert len([n for n in fake.nodes.values() if n.name == "evidence"]) == 1
    assert len([n for n in fake.nodes.values() if n.name == KEY]) == 1
    assert again.read_texts(KEY) == ['{"id": "sub1"}']
    assert again.read_file(KEY, "2026-11-29-ep-abc.pdf") == PDF
    assert store(fake).read_texts("NOBODY") == []  # reading makes no folder
    assert fake.child(item.drive_id, evidence.id, "NOBODY") is None


def test_a_kept_file_is_never_replaced(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    evidence = store(fake)
    evidence.save_file(KEY, "a.pdf", PDF, "application/pdf")
    evidence.save_file(KEY, "a.pdf", b"%PDF-other", "application/pdf")  # cannot happen (names carry the digest)
    assert fake.evidence_beside(item)[KEY]["a.pdf"] == PDF
    puts = [r for r in fake.graph_log if r.method == "PUT"]
    assert [r.status for r in puts] == [201, 409]  # conflictBehavior=fail: Graph's PUT default would replace it


def test_six_megabytes_go_by_an_upload_session(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    kept = store(fake).save_file(KEY, "2026-11-29-ep-big.pdf", BIG, "application/pdf")
    assert kept.size == len(BIG) > 4 * 1024 * 1024
    assert fake.evidence_beside(item)[KEY]["2026-11-29-ep-big.pdf"] == BIG
    assert not [r for r in fake.graph_log if r.method == "PUT"]  # no simple upload above 4 MB
    assert [r.path for r in fake.graph_log if r.path.endswith("createUploadSession")]
    fragments = [r for r in fake.log if r.path.startswith("/upload-session/")]
    assert [r.headers["Content-Range"] for r in fragments] == [
        f"bytes 0-{FRAGMENT_BYTES - 1}/{len(BIG)}",
        f"bytes {FRAGMENT_BYTES}-{len(BIG) - 1}/{len(BIG)}",
    ]
    assert FRAGMENT_BYTES % (320 * 1024) == 0
    assert all(r.headers["Authorization"] == "" for r in fragments)  # the session URL is pre-authenticated
    assert [r.status for r in fragments] == [202, 201]
    # Sent again: found by name, not uploaded again.
    store(fake).save_file(KEY, "2026-11-29-ep-big.pdf", BIG, "application/pdf")
    assert len([r for r in fake.log if r.path.startswith("/upload-session/")]) == 2


def test_a_fragment_whose_answer_is_lost_is_resumed_not_resent(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    fake.faults.append(Fault(503, match="/upload-session/", applied=True))  # stored, then the answer lost
    slept: list[float] = []
    store(fake, slept).save_file(KEY, "big.pdf", BIG, "application/pdf")
    assert fake.evidence_beside(item)[KEY]["big.pdf"] == BIG
    calls = [(r.method, r.status) for r in fake.log if r.path.startswith("/upload-session/")]
    assert calls == [("PUT", 503), ("GET", 200), ("PUT", 201)]  # asked where to go on; the first fragment not resent
    assert len(slept) == 1


def test_a_503_and_a_429_are_retried_honouring_retry_after(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    fake.faults += [Fault(503, match="/children"), Fault(429, retry_after=1.5, match=":/content")]
    slept: list[float] = []
    store(fake, slept).save_file(KEY, "a.pdf", PDF, "application/pdf")
    assert fake.evidence_beside(item) == {KEY: {"a.pdf": PDF}}
    assert len(slept) == 2
    assert max(slept) >= 1.5  # never sooner than Graph's Retry-After
    assert [r.status for r in fake.graph_log if r.method == "PUT"] == [429, 201]


def test_an_outage_gives_up_after_the_bounded_tries(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    fake.faults += [Fault(503) for _ in range(20)]
    slept: list[float] = []
    with pytest.raises(OneDriveUnavailable, match="did not answer after 3 tries"):
        store(fake, slept).save_file(KEY, "a.pdf", PDF, "application/pdf")
    assert len(fake.graph_log) == 3
    assert len(slept) == 2
    fake.faults.clear()
    fake.faults.append(Fault(429, retry_after=600))  # "come back in ten minutes": a contributor cannot wait that long
    started = time.monotonic()
    with pytest.raises(OneDriveUnavailable):
        store(fake).save_file(KEY, "a.pdf", PDF, "application/pdf")
    assert time.monotonic() - started < 2


def test_a_session_upload_outage_cancels_the_session(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    # Each fragment and each "where was I?" fails: 3 tries of the fragment, 2 status checks between them.
    fake.faults += [Fault(503, match="/upload-session/") for _ in range(5)]
    with pytest.raises(OneDriveUnavailable, match="did not take the file after 3 tries"):
        store(fake, []).save_file(KEY, "big.pdf", BIG, "application/pdf")
    calls = [r.method for r in fake.log if r.path.startswith("/upload-session/")]
    assert calls == ["PUT", "GET", "PUT", "GET", "PUT", "DELETE"]
    assert fake.uploads == {}  # cancelled, nothing half-made kept
    assert fake.evidence_beside(item) == {KEY: {}}


def test_no_access_to_the_folder_is_one_sentence_naming_the_fix(graph, caplog: pytest.LogCaptureFixture) -> None:
    fake, item = graph
    _folder(fake, item)
    fake.faults.append(Fault(403, match="/children", code="accessDenied"))
    with pytest.raises(OneDriveRefused) as refused:
        store(fake).save_file(KEY, "a.pdf", PDF, "application/pdf")
    text = str(refused.value)
    assert "share that folder" in text
    assert "Files.ReadWrite.All" in text
    assert KEY not in text
    assert "a.pdf" not in text
    assert "share that folder" in caplog.text  # the IT lead finds the fix in the log; the page asks to send again
    assert KEY not in caplog.text


def test_two_submissions_making_the_folder_at_once_make_one(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    from tests.fakes.graph_drive import DriveNode

    def someone_else_makes_it() -> None:
        fake.nodes[(item.drive_id, "D-OTHER")] = DriveNode(item.drive_id, "D-OTHER", "evidence", item.parent_id, True)

    # Requests: 1 the register's item, 2 GET evidence (404); then the other submission's folder appears.
    fake.after_request(2, someone_else_makes_it)
    store(fake).save_file(KEY, "a.pdf", PDF, "application/pdf")
    assert [n.id for n in fake.nodes.values() if n.name == "evidence"] == ["D-OTHER"]
    assert fake.evidence_beside(item) == {KEY: {"a.pdf": PDF}}


def test_many_files_are_listed_across_pages(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    evidence = store(fake)
    evidence.save_text(KEY, "first", "{}")
    pupil = fake.child(item.drive_id, fake.child(item.drive_id, item.parent_id, "evidence").id, KEY)
    for n in range(250):  # beyond one page of 200
        fake.add_drive_file(item.drive_id, pupil.id, f"advice-{n:04d}.json", json.dumps({"n": n}).encode())
    texts = evidence.read_texts(KEY)
    assert len(texts) == 251
    assert json.loads(texts[0]) == {"n": 0}  # the listing followed @odata.nextLink
    assert len([r for r in fake.graph_log if "/children" in r.path and r.method == "GET"]) == 2


def test_retries_stop_at_the_deadline_a_contributor_can_wait(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    fake.faults += [Fault(429, retry_after=0.4) for _ in range(20)]
    slept: list[float] = []
    with pytest.raises(OneDriveUnavailable, match="after 3 tries"):
        store(fake, slept, attempts=10, deadline=1.0).save_file(KEY, "a.pdf", PDF, "application/pdf")
    assert slept == [0.4, 0.4]  # a third wait would end past the deadline: given up instead
    assert len(fake.graph_log) == 3


def test_a_folder_the_sendco_deleted_is_made_again(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    evidence = store(fake)
    evidence.save_file(KEY, "a.pdf", PDF, "application/pdf")
    # The SENDCo tidies the evidence folder away, its files with it; the same store still remembers the old ids.
    fake.nodes = {k: n for k, n in fake.nodes.items() if n.name not in ("evidence", KEY, "a.pdf")}
    evidence.save_file(KEY, "b.pdf", PDF + b"b", "application/pdf")
    assert fake.evidence_beside(item) == {KEY: {"b.pdf": PDF + b"b"}}
    assert evidence.read_file(KEY, "b.pdf") == PDF + b"b"
    assert evidence.read_texts(KEY) == []


def test_one_submissions_files_share_one_deadline(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    evidence = store(fake, slept := [], attempts=10, deadline=1.0)
    fake.faults += [Fault(429, retry_after=0.4, match="a.pdf") for _ in range(2)]
    evidence.save_file(KEY, "a.pdf", PDF, "application/pdf")  # kept after 0.8 s of waiting
    fake.faults += [Fault(429, retry_after=0.4, match="b.pdf")]
    with pytest.raises(OneDriveUnavailable):  # straight after: 0.2 s of the submission's deadline left
        evidence.save_file(KEY, "b.pdf", PDF + b"b", "application/pdf")
    slept.append(5.0)  # a while later, the next submission gets a deadline of its own
    fake.faults += [Fault(429, retry_after=0.4, match="c.pdf")]
    evidence.save_file(KEY, "c.pdf", PDF + b"c", "application/pdf")
    assert sorted(fake.evidence_beside(item)[KEY]) == ["a.pdf", "c.pdf"]


def test_an_answer_graph_would_not_give_is_a_refusal_not_a_crash(graph) -> None:
    fake, item = graph
    _folder(fake, item)
    fake.faults.append(Fault(201, match=":/content"))  # "created", but no item in the answer
    with pytest.raises(OneDriveRefused, match="cannot read"):
        store(fake).save_file(KEY, "a.pdf", PDF, "application/pdf")


def test_a_slow_answer_is_cut_at_the_submissions_deadline_and_nothing_is_sent_after_it(graph) -> None:
    """The read timeout (5 s here, 30 s live) is cut to what is left of the deadline; the next file of the same
    submission is not even asked for."""
    fake, item = graph
    _folder(fake, item)
    evidence = OneDriveEvidenceStore(
        LINK,
        lambda force_refresh=False: "test-token",
        graph_root=f"http://{fake.host}/v1.0",
        policy=OneDrivePolicy(timeout_s=(2.0, 5.0), attempts=3, backoff_s=0.01, backoff_cap_s=0.02, deadline_s=1.0),
    )
    fake.faults += [Fault(503, delay=3.0) for _ in range(5)]
    started = time.monotonic()
    with pytest.raises(OneDriveUnavailable, match="after 1 tries"):
        evidence.save_file(KEY, "a.pdf", PDF, "application/pdf")
    with pytest.raises(OneDriveUnavailable):
        evidence.save_file(KEY, "b.pdf", PDF + b"b", "application/pdf")
    assert time.monotonic() - started < 1.5
    assert evidence.requests_sent == 1
