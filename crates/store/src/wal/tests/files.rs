//! The WAL on real files: round trip, group commit, budget, cursors across
//! reopen, quarantine of torn and corrupt frames, consumers at different
//! speeds, a reader on its own thread.

use std::{io::Write, time::Duration};

use super::{config, drain, payload, put, segments};
use crate::wal::{
    Durability, FRAME_HEADER, Lsn, Wal, WalConfig, WalError, encode_frame, frame::segment_name,
};

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), WalConfig::default()).unwrap();
    let mut r = wal.register("otlp").unwrap();
    let payloads: Vec<Vec<u8>> = (0..50).map(|i| payload(i, i * 37)).collect();
    let lsns = put(&mut wal, &payloads);
    let got = drain(&mut r);
    assert_eq!(got.iter().map(|(l, _)| *l).collect::<Vec<_>>(), lsns);
    assert_eq!(
        got.into_iter().map(|(_, p)| p).collect::<Vec<_>>(),
        payloads
    );
    // LSNs are the byte positions just past each frame.
    let mut pos = 0;
    for (p, lsn) in payloads.iter().zip(&lsns) {
        pos += (FRAME_HEADER + p.len()) as u64;
        assert_eq!(lsn.0, pos);
    }
    assert_eq!(wal.head(), *lsns.last().unwrap());
}

#[test]
fn group_commit_syncs_once_and_hides_uncommitted_frames() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), WalConfig::default()).unwrap();
    let mut r = wal.register("a").unwrap();
    let mut last = Lsn(0);
    for i in 0..100 {
        last = wal.append(&payload(i, 100)).unwrap();
    }
    assert!(
        r.read(1000, 1 << 30).unwrap().is_empty(),
        "nothing before the commit"
    );
    assert!(!r.wait(Duration::from_millis(10)));
    assert_eq!(wal.commit().unwrap(), last);
    let s = wal.stats();
    assert_eq!(
        (s.commits, s.syncs, s.frames_appended, s.frames_committed),
        (1, 1, 100, 100)
    );
    assert!(r.wait(Duration::ZERO));
    assert_eq!(drain(&mut r).len(), 100);
    // Nothing to write: no sync.
    wal.commit().unwrap();
    assert_eq!(wal.stats().syncs, 1);
    // Dropping the writer drops what was not committed.
    wal.append(b"never committed").unwrap();
    drop(r);
    drop(wal);
    let mut wal = Wal::open(dir.path(), WalConfig::default()).unwrap();
    let mut r = wal.register("a").unwrap();
    r.rewind();
    assert!(drain(&mut r).iter().all(|(_, p)| p != b"never committed"));
}

#[test]
fn buffered_commits_without_sync() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = WalConfig {
        durability: Durability::Buffered,
        ..WalConfig::default()
    };
    let mut wal = Wal::open(dir.path(), cfg).unwrap();
    let mut r = wal.register("a").unwrap();
    put(&mut wal, &[payload(1, 10), payload(2, 10)]);
    assert_eq!(wal.stats().syncs, 0);
    assert_eq!(drain(&mut r).len(), 2);
}

#[test]
fn full_budget_pushes_back_until_an_ack_frees_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(1000, 4000)).unwrap();
    let mut r = wal.register("slow").unwrap();
    let mut accepted = 0;
    let err = loop {
        match wal.append(&payload(accepted, 192)) {
            Ok(_) => {
                wal.commit().unwrap();
                accepted += 1;
            }
            Err(e) => break e,
        }
    };
    match err {
        WalError::Full { used, budget } => {
            assert_eq!(budget, 4000);
            assert!(used <= 4000 && used + 200 > 4000, "{used}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        accepted, 20,
        "5 frames of 200 bytes per 1000-byte segment, 4 segments"
    );
    assert_eq!(wal.stats().full_rejections, 1);
    // Reading is not enough; acking frees the segments behind the ack.
    let got = drain(&mut r);
    assert_eq!(got.len(), 20);
    assert!(wal.append(&payload(99, 192)).is_err());
    r.ack(got[9].0).unwrap();
    wal.append(&payload(100, 192)).unwrap();
    wal.commit().unwrap();
    let s = wal.stats();
    assert_eq!(s.segments_deleted, 2);
    assert!(s.bytes_used <= 4000);
    assert_eq!(segments(dir.path()).len(), 3);
    assert_eq!(drain(&mut r)[0].1, payload(100, 192));

    // A frame that could never fit is a different error.
    assert!(matches!(
        wal.append(&vec![0; 4000]),
        Err(WalError::TooLarge { .. })
    ));
}

#[test]
fn cursors_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..10).map(|i| payload(i, 64)).collect();
    {
        let mut wal = Wal::open(dir.path(), config(300, 1 << 20)).unwrap();
        let mut a = wal.register("a").unwrap();
        let _b = wal.register("b").unwrap();
        let lsns = put(&mut wal, &payloads);
        assert_eq!(drain(&mut a).len(), 10);
        a.ack(lsns[4]).unwrap();
        // Wal and readers dropped here: a restart.
    }
    let mut wal = Wal::open(dir.path(), config(300, 1 << 20)).unwrap();
    assert_eq!(wal.consumers(), ["a", "b"]);
    let mut a = wal.register("a").unwrap();
    let mut b = wal.register("b").unwrap();
    let got: Vec<Vec<u8>> = drain(&mut a).into_iter().map(|(_, p)| p).collect();
    assert_eq!(got, payloads[5..]);
    let got: Vec<Vec<u8>> = drain(&mut b).into_iter().map(|(_, p)| p).collect();
    assert_eq!(got, payloads);
    // New frames continue after the old ones.
    let lsn = put(&mut wal, &[payload(10, 64)])[0];
    assert_eq!(drain(&mut a), vec![(lsn, payload(10, 64))]);
}

#[test]
fn torn_tail_is_quarantined_and_its_positions_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..3).map(|i| payload(i, 50)).collect();
    let end = {
        let mut wal = Wal::open(dir.path(), WalConfig::default()).unwrap();
        let _ = wal.register("a").unwrap();
        *put(&mut wal, &payloads).last().unwrap()
    };
    // A crash in the middle of writing a fourth frame.
    let mut frame = Vec::new();
    encode_frame(&payload(3, 50), &mut frame);
    let seg = dir.path().join(segment_name(0));
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&frame[..20]).unwrap();
    drop(f);

    let mut wal = Wal::open(dir.path(), WalConfig::default()).unwrap();
    let s = wal.stats();
    assert_eq!(
        (s.torn_tails, s.corrupt_frames, s.quarantined_bytes),
        (1, 0, 20)
    );
    assert_eq!(s.quarantined_frames(), 1);
    let q = dir
        .path()
        .join("quarantine")
        .join(format!("{}-{}.bin", segment_name(0), end.0));
    assert_eq!(std::fs::read(q).unwrap(), frame[..20]);
    assert_eq!(
        std::fs::metadata(&seg).unwrap().len(),
        end.0,
        "cut at the last whole frame"
    );

    let mut r = wal.register("a").unwrap();
    let got: Vec<Vec<u8>> = drain(&mut r).into_iter().map(|(_, p)| p).collect();
    assert_eq!(got, payloads);
    let lsn = put(&mut wal, &[payload(4, 50)])[0];
    assert_eq!(
        lsn.0,
        end.0 + 20 + 58,
        "the new frame starts past the cut bytes"
    );
    assert_eq!(drain(&mut r), vec![(lsn, payload(4, 50))]);
    assert_eq!(segments(dir.path()).len(), 2);
}

#[test]
fn flipped_byte_quarantines_the_rest_of_its_segment_only() {
    let dir = tempfile::tempdir().unwrap();
    // 108-byte frames, two per segment: segments at 0, 216, 432.
    let payloads: Vec<Vec<u8>> = (0..6).map(|i| payload(i, 100)).collect();
    {
        let mut wal = Wal::open(dir.path(), config(250, 1 << 20)).unwrap();
        let _ = wal.register("a").unwrap();
        put(&mut wal, &payloads);
    }
    assert_eq!(
        segments(dir.path()),
        [segment_name(0), segment_name(216), segment_name(432)]
    );
    // Damage the first frame of the middle segment, in its payload.
    let seg = dir.path().join(segment_name(216));
    let mut bytes = std::fs::read(&seg).unwrap();
    let original = bytes.clone();
    bytes[40] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();

    let mut wal = Wal::open(dir.path(), config(250, 1 << 20)).unwrap();
    let s = wal.stats();
    assert_eq!(
        (s.torn_tails, s.corrupt_frames, s.quarantined_bytes),
        (0, 1, 216)
    );
    let q = dir
        .path()
        .join("quarantine")
        .join(format!("{}-0.bin", segment_name(216)));
    assert_eq!(
        std::fs::read(q).unwrap(),
        bytes,
        "the damaged bytes, kept as found"
    );
    assert_ne!(bytes, original);
    let mut r = wal.register("a").unwrap();
    let got: Vec<Vec<u8>> = drain(&mut r).into_iter().map(|(_, p)| p).collect();
    assert_eq!(got, [&payloads[..2], &payloads[4..]].concat());

    // Damage in a frame's length: the same.
    drop(r);
    drop(wal);
    let seg = dir.path().join(segment_name(432));
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[108 + 1] ^= 0x40;
    std::fs::write(&seg, &bytes).unwrap();
    let mut wal = Wal::open(dir.path(), config(250, 1 << 20)).unwrap();
    let mut r = wal.register("a").unwrap();
    let got: Vec<Vec<u8>> = drain(&mut r).into_iter().map(|(_, p)| p).collect();
    assert_eq!(got, [&payloads[..2], &payloads[4..5]].concat());
    assert_eq!(wal.stats().quarantined_frames(), 1);
}

#[test]
fn two_consumers_hold_segments_until_the_slower_acks() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(250, 1 << 20)).unwrap();
    let mut fast = wal.register("fast").unwrap();
    let mut slow = wal.register("slow").unwrap();
    let payloads: Vec<Vec<u8>> = (0..10).map(|i| payload(i, 100)).collect();
    let lsns = put(&mut wal, &payloads);
    assert_eq!(segments(dir.path()).len(), 5);

    assert_eq!(drain(&mut fast).len(), 10);
    fast.ack(lsns[9]).unwrap();
    wal.commit().unwrap();
    assert_eq!(
        segments(dir.path()).len(),
        5,
        "slow still holds every segment"
    );

    let first = slow.read(3, usize::MAX).unwrap();
    assert_eq!(first.len(), 3);
    slow.ack(first[2].0).unwrap();
    wal.commit().unwrap();
    // slow is done with frames 0-2: segment 0 (frames 0, 1) goes; segment
    // 216 (frames 2, 3) stays for frame 3.
    assert_eq!(segments(dir.path())[0], segment_name(216));
    assert_eq!(segments(dir.path()).len(), 4);
    let rest: Vec<Vec<u8>> = drain(&mut slow).into_iter().map(|(_, p)| p).collect();
    assert_eq!(rest, payloads[3..]);
    let st = wal.stats();
    let lag: Vec<(String, u64)> = st
        .consumers
        .iter()
        .map(|c| (c.name.clone(), c.lag_bytes))
        .collect();
    assert_eq!(lag, [("fast".into(), 0), ("slow".into(), 7 * 108)]);

    // Once slow leaves the config, it holds nothing.
    assert!(matches!(
        wal.unregister("slow"),
        Err(WalError::ConsumerBusy(_))
    ));
    drop(slow);
    wal.unregister("slow").unwrap();
    wal.commit().unwrap();
    // fast is past everything: the written segment is rotated away too.
    assert_eq!(segments(dir.path()), [segment_name(lsns[9].0)]);
    assert_eq!(wal.stats().bytes_used, 0);
    drop(wal);
    let wal = Wal::open(dir.path(), config(250, 1 << 20)).unwrap();
    assert_eq!(wal.consumers(), ["fast"]);
}

#[test]
fn a_reader_on_its_own_thread_sees_commits_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), config(4096, 1 << 24)).unwrap();
    let mut r = wal.register("sink").unwrap();
    let n = 2000;
    let sink = std::thread::spawn(move || {
        let mut got = Vec::new();
        while got.len() < n {
            if !r.wait(Duration::from_secs(10)) {
                break;
            }
            let batch = r.read(64, 1 << 16).unwrap();
            if let Some((lsn, _)) = batch.last() {
                r.ack(*lsn).unwrap();
            }
            got.extend(batch.into_iter().map(|(_, p)| p));
        }
        got
    });
    for i in 0..n {
        wal.append(&payload(i, 300)).unwrap();
        if i % 10 == 9 {
            wal.commit().unwrap();
        }
    }
    wal.commit().unwrap();
    let got = sink.join().unwrap();
    assert_eq!(got.len(), n);
    assert!(got.iter().enumerate().all(|(i, p)| *p == payload(i, 300)));
    wal.commit().unwrap();
    assert!(wal.stats().segments_deleted > 100);
}

#[test]
fn misuse_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(dir.path(), WalConfig::default()).unwrap();
    assert!(matches!(
        Wal::open(dir.path(), WalConfig::default()),
        Err(WalError::Locked(_))
    ));
    let mut r = wal.register("a").unwrap();
    assert!(matches!(wal.register("a"), Err(WalError::ConsumerBusy(_))));
    assert!(matches!(wal.register("../x"), Err(WalError::BadName(_))));
    assert!(matches!(
        wal.unregister("nobody"),
        Err(WalError::UnknownConsumer(_))
    ));
    assert!(matches!(r.ack(Lsn(1)), Err(WalError::AckBeyondHead { .. })));
    let bad = WalConfig {
        budget_bytes: 10,
        ..WalConfig::default()
    };
    assert!(matches!(
        Wal::open(dir.path().join("x"), bad),
        Err(WalError::Config(_))
    ));
    drop(r);
    assert!(wal.register("a").is_ok());
}

#[test]
fn the_writer_and_readers_move_between_threads() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<Wal>();
    send::<crate::wal::Reader>();
    send_sync::<crate::wal::WalStatsHandle>();
    send_sync::<crate::wal::RealFs>();
    send_sync::<crate::wal::SimFs>();
}
