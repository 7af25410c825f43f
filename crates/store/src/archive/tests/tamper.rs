//! Each kind of tampering fails verify, naming the first bad entry. In a
//! single-segment archive from [`Fx::written`] line n holds seq n: line 1 is
//! the open seal, lines 7 and 13 are checkpoints (every 5 records).

use super::*;
use crate::archive::{KeySource, VerifyReport, format::Seal};

fn report(fx: &Fx) -> VerifyReport {
    fx.verify().unwrap()
}

#[test]
fn an_intact_archive_verifies() {
    let fx = Fx::written(12);
    let r = report(&fx);
    assert_eq!((r.records, r.first_seq, r.last_seq), (12, 1, 16));
    // open + two by count + the one at close
    assert_eq!(r.seals, 4);
    assert_eq!(r.unsealed_records, 0);
    assert_eq!(r.key_source, KeySource::Given);
    assert_eq!(r.last_seal.as_ref().map(|s| s.seq), Some(16));
    // Without --pubkey: the key file the writer keeps beside the segments.
    let r = verify(&fx.dir(), None).unwrap();
    assert!(matches!(r.key_source, KeySource::KeyFile(_)));
    // Without either: the key the open seal names.
    std::fs::remove_file(fx.dir().join(crate::archive::PUBKEY_FILE)).unwrap();
    let r = verify(&fx.dir(), None).unwrap();
    assert_eq!(r.key_source, KeySource::Embedded);
    assert_eq!(r.public_key, key().public_key_string());
}

#[test]
fn a_modified_byte_in_a_record_is_named() {
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    let at = l[3].len() - 5; // inside the record body of line 4
    l[3][at] ^= 0x01;
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, 4, Some(4));
    is_problem(&b, |p| matches!(p, Problem::HashMismatch { .. }));
}

#[test]
fn a_deleted_line_is_named() {
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    l.remove(4); // seq 5
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, 5, Some(6));
    is_problem(&b, |p| {
        *p == Problem::Missing {
            expected: 5,
            found: 6,
        }
    });
}

#[test]
fn an_inserted_line_is_named() {
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    let copy = l[2].clone(); // seq 3, replayed after seq 6
    l.insert(6, copy);
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, 7, Some(3));
    is_problem(&b, |p| {
        *p == Problem::Repeated {
            expected: 7,
            found: 3,
        }
    });
}

#[test]
fn a_forged_inserted_line_is_caught_at_the_next_entry() {
    // An attacker writes a well-formed entry at the right seq with the right
    // prev and hash: the entry after it no longer fits.
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    let at = parse_line(&l[4]).unwrap(); // seq 5
    let mut forged = Vec::new();
    encode_line(
        &mut forged,
        6,
        &at.hash,
        EntryKind::Record,
        br#"{"forged":true}"#,
    );
    forged.pop();
    l.insert(5, forged);
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, 7, Some(6));
    is_problem(&b, |p| {
        *p == Problem::Repeated {
            expected: 7,
            found: 6,
        }
    });
}

#[test]
fn swapped_lines_are_named() {
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    l.swap(2, 3); // seq 3 and 4
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, 3, Some(4));
    is_problem(&b, |p| {
        *p == Problem::Reordered {
            expected: 3,
            found: 4,
        }
    });
}

#[test]
fn a_segment_cut_mid_line_is_named() {
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let bytes = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &bytes[..bytes.len() - 20]).unwrap();
    let b = fx.bad();
    assert_bad(&b, &seg, 16, Some(16));
    is_problem(&b, |p| matches!(p, Problem::Truncated(_)));
}

#[test]
fn a_record_rewritten_and_rechained_fails_at_the_next_seal() {
    // Without the key, re-hashing the rest of the chain is not enough: the
    // next checkpoint signed the old head.
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    let p = parse_line(&l[8]).unwrap(); // seq 9
    let mut changed = Vec::new();
    encode_line(
        &mut changed,
        9,
        &p.prev,
        EntryKind::Record,
        br#"{"kind":"event","n":"rewritten"}"#,
    );
    changed.pop();
    l[8] = changed;
    rechain(&mut l, 8);
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, 13, Some(13));
    is_problem(&b, |p| matches!(p, Problem::BadSignature(_)));
}

#[test]
fn a_forged_checkpoint_signature_is_named() {
    let fx = Fx::written(12);
    let seg = fx.seg(1);
    let mut l = lines(&seg);
    let p = parse_line(&l[6]).unwrap(); // the checkpoint at seq 7
    let mut seal: Seal = serde_json::from_slice(p.body).unwrap();
    // Signed by someone else's key over the right message.
    let other = ArchiveKey::from_seed(&[9; 32]);
    let msg = crate::archive::format::seal_message(&seal.fields(p.seq, p.prev));
    seal.sig = hex::encode(other.sign(&msg).to_bytes());
    let mut forged = Vec::new();
    encode_line(
        &mut forged,
        7,
        &p.prev,
        EntryKind::Seal,
        &serde_json::to_vec(&seal).unwrap(),
    );
    forged.pop();
    l[6] = forged;
    rechain(&mut l, 6);
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, 7, Some(7));
    is_problem(&b, |p| matches!(p, Problem::BadSignature(_)));
}

#[test]
fn the_wrong_public_key_fails_at_the_first_seal() {
    let fx = Fx::written(3);
    let wrong = ArchiveKey::from_seed(&[9; 32]).verifying_key();
    let err = verify(&fx.dir(), Some(&wrong)).unwrap_err();
    let b = err.bad_entry().unwrap();
    assert_bad(b, &fx.seg(1), 1, Some(1));
    is_problem(
        b,
        |p| matches!(p, Problem::BadSignature(m) if m.contains("the seal names")),
    );
}

/// Three segments of 4 records each (rotation by age).
fn three_segments() -> Fx {
    let fx = Fx::new();
    let mut a = fx.open(ArchiveConfig {
        max_segment_age: Some(Duration::from_secs(60)),
        ..config()
    });
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            fx.clock.advance(61 * SEC);
        }
        a.append(&rec(i)).unwrap();
    }
    a.close().unwrap();
    assert!(fx.seg(3).exists() && !fx.seg(4).exists());
    fx
}

#[test]
fn a_deleted_middle_segment_is_named() {
    let fx = three_segments();
    fx.verify().unwrap();
    std::fs::remove_file(fx.seg(2)).unwrap();
    let b = fx.bad();
    assert_eq!((b.file.as_path(), b.line), (fx.seg(3).as_path(), 1));
    is_problem(&b, |p| {
        *p == Problem::MissingSegment {
            expected: 2,
            found: 3,
        }
    });
}

#[test]
fn a_deleted_first_segment_is_not_mistaken_for_retention() {
    let fx = three_segments();
    std::fs::remove_file(fx.seg(1)).unwrap();
    let b = fx.bad();
    assert_eq!((b.file.as_path(), b.line), (fx.seg(2).as_path(), 1));
    is_problem(&b, |p| {
        matches!(
            p,
            Problem::PrunedWithoutRecord {
                pruned_through: 0,
                ..
            }
        )
    });
}

#[test]
fn a_middle_segment_cut_at_a_line_boundary_is_named() {
    let fx = three_segments();
    let seg = fx.seg(2);
    let mut l = lines(&seg);
    let n = l.len() as u64;
    let close_seq = parse_line(l.last().unwrap()).unwrap().seq;
    l.pop(); // its close seal
    write_lines(&seg, &l);
    let b = fx.bad();
    assert_bad(&b, &seg, n, Some(close_seq));
    is_problem(&b, |p| matches!(p, Problem::Truncated(_)));
}

#[test]
fn a_deleted_tail_after_the_last_seal_is_reported_not_detected() {
    // The honest limit: lines after the last seal can vanish unseen, and
    // the report says how many records were unsealed and what the head is.
    let fx = Fx::new();
    let mut a = fx.open(config());
    for i in 0..7 {
        a.append(&rec(i)).unwrap();
    }
    a.flush().unwrap();
    a.crash();
    let r = fx.verify().unwrap();
    assert_eq!((r.unsealed_records, r.last_seq), (2, 9));
    assert_eq!(r.last_seal.map(|s| s.seq), Some(7));
}
