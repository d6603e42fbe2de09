//! The streaming path of dotenv, INI and TOML files against their lossless path, on arbitrary
//! input (the first byte picks the format): it must never panic; whatever it accepts the
//! lossless parser must accept with the same leaves (and, decrypting, the same metadata); and
//! sealing every leaf (on one thread and cut in two) and opening every leaf must write what the
//! lossless path writes, or be refused by both.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veil::format::stream::FastFlat;
use veil::format::{Edit, Format};
use veil::tree::{Item, Scalar, Value};

/// A token that carries nothing but the leaf's type.
fn token(s: &Scalar) -> String {
    format!("ENC[AES256_GCM,data:ZA==,iv:aXY=,tag:dGFn,type:{}]", s.type_name())
}

fn seal(s: &Scalar) -> Edit {
    if s.is_empty_text() {
        Edit::Keep
    } else {
        Edit::Seal(token(s))
    }
}

/// Open a sealed leaf to a value of some kind, chosen by its length.
fn open(s: &Scalar) -> Edit {
    match s.as_text() {
        Some(t) if t.starts_with("ENC[") && s.is_comment() => {
            Edit::Open(Scalar::Comment(" opened".into()))
        }
        Some(t) if t.starts_with("ENC[") => Edit::Open(match t.len() % 4 {
            0 => Scalar::Str("plain value".into()),
            1 => Scalar::Int(42),
            2 => Scalar::Str("needs ; \"quotes\" # here".into()),
            _ => Scalar::Bool(true),
        }),
        _ => Edit::Keep,
    }
}

fn run(f: &FastFlat, min: Option<usize>, mk: fn(&Scalar) -> Edit) -> (usize, veil::error::Result<Option<Vec<u8>>>) {
    let (mut n1, mut n2) = (0usize, 0usize);
    let r = f.render_split_from(
        min,
        &mut |_, _, s| {
            n1 += 1;
            Ok(mk(s))
        },
        &mut |_, _, s| {
            n2 += 1;
            Ok(mk(s))
        },
    );
    let out = r.and_then(|r| match r {
        Some(r) => f.finish(r, None).map(|o| Some(o.to_vec())),
        None => Ok(None),
    });
    (n1 + n2, out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = [Format::Dotenv, Format::Ini, Format::Toml][pick as usize % 3];
    let store = format.store();
    for encrypted in [false, true] {
        for min in [None, Some(0)] {
            let Ok(fast) = FastFlat::scan(format, rest.to_vec(), encrypted) else {
                continue;
            };
            let lossless = store
                .parse(rest)
                .expect("the lossless path must accept what the streaming path accepts");
            let mut want = vec![];
            veil::tree::walk_leaves(lossless.docs(), |_, _, s| want.push(s.clone()));
            if encrypted {
                let meta = fast.metadata().expect("metadata");
                assert_eq!(meta.as_ref(), lossless.metadata(), "different metadata");
                let opens: Vec<Edit> = want.iter().map(open).collect();
                let (n, got) = run(&fast, min, open);
                match (got, lossless.render(&opens, None)) {
                    (Ok(Some(got)), Ok(expected)) => {
                        assert_eq!(n, want.len());
                        assert_eq!(got, expected, "the two paths open to different bytes");
                    }
                    (Ok(Some(_)), Err(e)) => panic!("only the streaming path writes it: {e}"),
                    // Sent back, or refused by both.
                    (Ok(None), _) | (Err(_), Err(_)) => {}
                    (Err(e), Ok(_)) => panic!("only the streaming path refuses it: {e}"),
                }
                continue;
            }
            assert!(lossless.metadata().is_none());
            let seals: Vec<Edit> = want.iter().map(seal).collect();
            let meta = Value::Map(vec![Item::Entry("version".into(), Value::str("3.11.0"))]);
            let (mut n1, mut n2) = (0usize, 0usize);
            let r = fast
                .render_split_from(
                    min,
                    &mut |_, _, s| {
                        n1 += 1;
                        Ok(seal(s))
                    },
                    &mut |_, _, s| {
                        n2 += 1;
                        Ok(seal(s))
                    },
                )
                .expect("the streaming output must check")
                .expect("sealing is written in place");
            assert_eq!(n1 + n2, want.len(), "the two paths see different leaves");
            let got = fast.finish(r, Some(&meta)).expect("the metadata").to_vec();
            let expected = lossless.render(&seals, Some(&meta)).expect("lossless render");
            assert_eq!(got, expected, "the two paths seal to different bytes");
        }
    }
});
