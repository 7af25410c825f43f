//! The writer: restarts, crashes, torn tails, rotation, retention, keys.

use super::*;
use crate::archive::{ArchiveError, format::SealKind};

#[test]
#[cfg(target_os = "linux")]
fn synced_whole_pages_are_dropped_behind_and_appends_continue_after_them() {
    let fx = Fx::new();
    let mut a = fx.open(config());
    for i in 0..200 {
        a.append(&rec(i)).unwrap();
    }
    a.flush().unwrap();
    let size = std::fs::metadata(fx.seg(1)).unwrap().len();
    assert!(size > 3 * 4096, "{size} bytes");
    // Every whole page on disk, and not the partial last one.
    assert_eq!(a.dropped_bytes(), Some(size / 4096 * 4096));
    // Appends land in the kept partial page and after it, intact.
    for i in 200..260 {
        a.append(&rec(i)).unwrap();
    }
    a.flush().unwrap();
    let size = std::fs::metadata(fx.seg(1)).unwrap().len();
    assert_eq!(a.dropped_bytes(), Some(size / 4096 * 4096));
    a.close().unwrap();
    let r = fx.verify().unwrap();
    assert_eq!(r.records, 260);
}

#[test]
fn a_restart_continues_the_chain_in_the_same_segment() {
    let fx = Fx::new();
    let mut a = fx.open(config());
    for i in 0..3 {
        a.append(&rec(i)).unwrap();
    }
    let head = a.head().unwrap();
    a.close().unwrap(); // seals seq 5
    let mut a = fx.open(config());
    assert_eq!(a.segment_index(), Some(1));
    assert_eq!(a.last_seq(), Some(5));
    assert_ne!(a.head(), Some(head));
    assert_eq!(a.append(&rec(3)).unwrap(), 6);
    a.close().unwrap();
    let r = fx.verify().unwrap();
    assert_eq!((r.records, r.last_seq, r.segments), (4, 7, 1));
}

#[test]
fn a_crash_after_flush_loses_nothing_and_the_chain_continues() {
    let fx = Fx::new();
    let mut a = fx.open(config());
    for i in 0..7 {
        a.append(&rec(i)).unwrap();
    }
    a.flush().unwrap();
    a.crash();
    let mut a = fx.open(config());
    assert_eq!(a.last_seq(), Some(9));
    // The unsealed count survives the restart: 2 before + 3 = a seal at 5.
    for i in 7..10 {
        a.append(&rec(i)).unwrap();
    }
    assert_eq!(
        a.last_seq(),
        Some(13),
        "a checkpoint follows the 5th unsealed record"
    );
    a.close().unwrap();
    let r = fx.verify().unwrap();
    assert_eq!((r.records, r.unsealed_records), (10, 0));
}

#[test]
fn a_torn_tail_is_quarantined_and_counted_and_the_chain_continues() {
    let fx = Fx::written(3);
    let seg = fx.seg(1);
    let good = std::fs::read(&seg).unwrap();
    let torn = br#"{"seq":6,"prev":"00ab"#;
    let mut bytes = good.clone();
    bytes.extend_from_slice(torn);
    std::fs::write(&seg, &bytes).unwrap();
    assert!(matches!(fx.bad().problem, Problem::Truncated(_)));

    let mut a = fx.open(config());
    assert_eq!(a.quarantined(), 1);
    assert_eq!(std::fs::read(&seg).unwrap(), good, "good entries untouched");
    let q: Vec<_> = std::fs::read_dir(fx.dir().join("quarantine"))
        .unwrap()
        .collect();
    assert_eq!(q.len(), 1);
    assert_eq!(std::fs::read(q[0].as_ref().unwrap().path()).unwrap(), torn);
    assert_eq!(a.append(&rec(3)).unwrap(), 6);
    a.close().unwrap();
    assert_eq!(fx.verify().unwrap().records, 4);
}

#[test]
fn a_damaged_last_segment_is_not_extended_nor_rewritten() {
    let fx = Fx::written(3);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    let at = l[2].len() - 3;
    l[2][at] ^= 0x02;
    write_lines(&seg, &l);
    let before = std::fs::read(&seg).unwrap();
    let err = Archive::open(&fx.dir(), key(), config(), fx.clock.clone()).unwrap_err();
    match err {
        ArchiveError::Damaged(b) => assert_bad(&b, &seg, 3, Some(3)),
        e => panic!("expected Damaged, got {e}"),
    }
    assert_eq!(std::fs::read(&seg).unwrap(), before);
}

#[test]
fn another_key_is_refused() {
    let fx = Fx::written(1);
    let other = ArchiveKey::from_seed(&[9; 32]);
    let err = Archive::open(&fx.dir(), other, config(), fx.clock.clone()).unwrap_err();
    assert!(matches!(err, ArchiveError::KeyMismatch { .. }), "{err}");
}

fn seal_kinds(path: &Path) -> Vec<SealKind> {
    lines(path)
        .iter()
        .map(|l| parse_line(l).unwrap())
        .filter(|p| p.kind == EntryKind::Seal)
        .map(|p| {
            serde_json::from_slice::<crate::archive::format::Seal>(p.body)
                .unwrap()
                .kind
        })
        .collect()
}

#[test]
fn segments_rotate_by_size() {
    let fx = Fx::new();
    let max = 2_000;
    let mut a = fx.open(ArchiveConfig {
        max_segment_bytes: max,
        ..config()
    });
    for i in 0..60 {
        a.append(&rec(i)).unwrap();
    }
    a.close().unwrap();
    let r = fx.verify().unwrap();
    assert!(r.segments >= 4, "{r:?}");
    assert_eq!(r.records, 60);
    for index in 1..=r.last_segment {
        let seg = fx.seg(index);
        let size = std::fs::metadata(&seg).unwrap().len();
        assert!(size <= max, "segment {index} is {size} bytes");
        let kinds = seal_kinds(&seg);
        assert_eq!(kinds.first(), Some(&SealKind::Open));
        if index < r.last_segment {
            assert_eq!(kinds.last(), Some(&SealKind::Close));
        }
    }
}

#[test]
fn segments_rotate_by_age() {
    let fx = Fx::new();
    let mut a = fx.open(ArchiveConfig {
        max_segment_age: Some(Duration::from_secs(3600)),
        ..config()
    });
    a.append(&rec(0)).unwrap();
    fx.clock.advance(3599 * SEC);
    a.append(&rec(1)).unwrap();
    assert_eq!(a.segment_index(), Some(1));
    fx.clock.advance(SEC);
    a.append(&rec(2)).unwrap();
    assert_eq!(a.segment_index(), Some(2));
    a.close().unwrap();
    let r = fx.verify().unwrap();
    assert_eq!((r.segments, r.records), (2, 3));
}

#[test]
fn retention_deletes_old_segments_and_the_rest_still_verifies() {
    let fx = Fx::new();
    let cfg = ArchiveConfig {
        max_segment_age: Some(Duration::from_secs(60)),
        retention: Some(Duration::from_secs(300)),
        ..config()
    };
    let mut a = fx.open(cfg.clone());
    // One segment a minute for 10 minutes.
    for i in 0..20 {
        if i > 0 && i % 2 == 0 {
            fx.clock.advance(60 * SEC);
        }
        a.append(&rec(i)).unwrap();
    }
    a.close().unwrap();
    assert!(
        !fx.seg(1).exists() && !fx.seg(4).exists(),
        "old segments pruned"
    );
    let r = fx.verify().unwrap();
    assert!(r.first_segment >= 5 && r.last_segment == 10, "{r:?}");
    assert_eq!(r.pruned_through + 1, r.first_seq);

    // At open, retention applies with the clock of the new start.
    fx.clock.advance(3600 * SEC);
    let a = fx.open(cfg);
    drop(a);
    let r = fx.verify().unwrap();
    assert_eq!((r.first_segment, r.last_segment), (10, 10));

    // Deleting what retention has not is still seen.
    let fx = Fx::new();
    let mut a = fx.open(ArchiveConfig {
        max_segment_age: Some(Duration::from_secs(60)),
        retention: Some(Duration::from_secs(300)),
        ..config()
    });
    for i in 0..8 {
        fx.clock.advance(60 * SEC);
        a.append(&rec(i)).unwrap();
    }
    a.close().unwrap();
    let r = fx.verify().unwrap();
    std::fs::remove_file(fx.seg(r.first_segment)).unwrap();
    let b = fx.bad();
    is_problem(&b, |p| matches!(p, Problem::PrunedWithoutRecord { .. }));
}

#[test]
fn a_crash_during_rotation_is_recovered() {
    // The close seal of segment 1 is synced, segment 2 exists but is empty.
    let fx = Fx::new();
    let cfg = ArchiveConfig {
        max_segment_age: Some(Duration::from_secs(60)),
        ..config()
    };
    let mut a = fx.open(cfg.clone());
    a.append(&rec(0)).unwrap();
    fx.clock.advance(61 * SEC);
    a.append(&rec(1)).unwrap(); // rotates
    a.crash();
    std::fs::write(fx.seg(2), b"").unwrap();
    let mut a = fx.open(cfg);
    assert_eq!(a.segment_index(), Some(2));
    a.append(&rec(2)).unwrap();
    a.close().unwrap();
    let r = fx.verify().unwrap();
    assert_eq!((r.segments, r.records), (2, 2));
}

#[test]
fn a_checkpoint_is_due_by_time_on_flush() {
    let fx = Fx::new();
    let mut a = fx.open(ArchiveConfig {
        checkpoint_interval: Duration::from_secs(10),
        ..config()
    });
    a.append(&rec(0)).unwrap();
    a.flush().unwrap();
    assert_eq!(a.last_seq(), Some(2), "not due yet");
    fx.clock.advance(10 * SEC);
    a.flush().unwrap();
    assert_eq!(a.last_seq(), Some(3), "sealed on flush");
    a.flush().unwrap();
    assert_eq!(a.last_seq(), Some(3), "nothing new to seal");
}

#[test]
fn a_record_with_a_raw_newline_is_refused() {
    let fx = Fx::new();
    let mut a = fx.open(config());
    let raw = serde_json::value::RawValue::from_string("{\n\"a\": 1}".into()).unwrap();
    assert!(matches!(
        a.append(&*raw),
        Err(ArchiveError::InvalidRecord(_))
    ));
    a.append(&rec(0)).unwrap();
    a.close().unwrap();
    fx.verify().unwrap();
}

#[test]
fn the_key_file_is_generated_private_and_reloaded() {
    let tmp = tempfile::tempdir().unwrap();
    let k1 = ArchiveKey::load_or_generate(tmp.path()).unwrap();
    let path = tmp.path().join(ArchiveKey::FILE_NAME);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let k2 = ArchiveKey::load_or_generate(tmp.path()).unwrap();
    assert_eq!(k1.public_key_string(), k2.public_key_string());
    let text = k1.public_key_string();
    assert_eq!(text.len(), 44);
    let parsed = crate::archive::parse_public_key(&text).unwrap();
    assert_eq!(parsed, k1.verifying_key());
    let hexed = hex::encode(k1.verifying_key().as_bytes());
    assert_eq!(crate::archive::parse_public_key(&hexed).unwrap(), parsed);
    assert!(crate::archive::parse_public_key("not a key").is_err());
    assert!(ArchiveKey::from_file(&tmp.path().join("missing")).is_err());
}

#[test]
fn a_second_writer_is_refused_while_the_first_is_open() {
    let fx = Fx::new();
    let a = fx.open(config());
    let err = Archive::open(&fx.dir(), key(), config(), fx.clock.clone()).unwrap_err();
    assert!(matches!(err, ArchiveError::Locked(_)), "{err}");
    a.close().unwrap();
    fx.open(config()).close().unwrap();
}

#[test]
fn a_crash_before_flush_loses_only_the_unacknowledged_records() {
    let fx = Fx::new();
    let mut a = fx.open(config());
    a.append(&rec(0)).unwrap();
    a.flush().unwrap();
    a.append(&rec(1)).unwrap(); // buffered, never flushed: never acknowledged
    a.crash();
    let r = fx.verify().unwrap();
    assert_eq!((r.records, r.last_seq), (1, 2));
    let mut a = fx.open(config());
    assert_eq!(a.append(&rec(1)).unwrap(), 3);
    a.close().unwrap();
    fx.verify().unwrap();
}

#[test]
fn after_a_write_error_the_next_call_reopens_from_disk() {
    let fx = Fx::new();
    let mut a = fx.open(config());
    a.append(&rec(0)).unwrap();
    a.flush().unwrap();
    a.append(&rec(1)).unwrap();
    // The write failed half-way: part of a line reached the file.
    a.fail();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(fx.seg(1))
        .unwrap();
    std::io::Write::write_all(&mut f, br#"{"seq":3,"prev":"#).unwrap();
    assert_eq!(a.last_seq(), None);
    assert_eq!(a.append(&rec(1)).unwrap(), 3, "the lost record is resent");
    assert_eq!(a.quarantined(), 1);
    a.close().unwrap();
    assert_eq!(fx.verify().unwrap().records, 2);
}
