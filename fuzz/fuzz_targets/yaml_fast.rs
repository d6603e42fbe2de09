//! The streaming YAML path against the lossless one, on arbitrary input: it must never panic;
//! whatever it accepts the lossless parser must accept with the same leaves and metadata; and
//! sealing every leaf (in one part and cut in two) and opening every leaf must give the same
//! bytes on both paths and pass the streaming path's own re-parse check.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veil::format::yaml::{FastYaml, YamlDocument};
use veil::format::{Edit, Parsed};
use veil::tree::{Item, Scalar, Value};

fn token(i: usize, s: &Scalar) -> String {
    format!("ENC[AES256_GCM,data:d{i},iv:i{i},tag:t{i},type:{}]", s.type_name())
}

fn opened(i: usize) -> Scalar {
    match i % 4 {
        0 => Scalar::Str(format!("value {i}")),
        1 => Scalar::Int(i as i64),
        2 => Scalar::Str("needs: quotes # yes".into()),
        _ => Scalar::Bool(true),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for encrypted in [false, true] {
        let Ok(fast) = FastYaml::scan(text.to_string(), encrypted) else {
            continue;
        };
        // Decrypting, the `sops:` lines are read by the lossless parser; a file whose metadata
        // does not read goes to the lossless path (as `veil decrypt` does).
        let meta_read = if encrypted {
            match fast.metadata() {
                Ok(Some(m)) => Some(m),
                _ => continue,
            }
        } else {
            None
        };
        let lossless = YamlDocument::parse(data).expect("the lossless path must accept it too");
        if encrypted {
            assert_eq!(meta_read.as_ref(), lossless.metadata(), "the two paths read different metadata");
        }
        let mut want = vec![];
        veil::tree::walk_leaves_aad(lossless.docs(), |_, _, a, s| {
            want.push((a.to_string(), s.clone()))
        });
        let mut seen = vec![];
        let r = fast
            .render_leaves(&mut |_, a, s| {
                let e = Edit::Seal(token(seen.len(), s));
                seen.push((a.to_string(), s.clone()));
                Ok(e)
            })
            .expect("render_leaves")
            .expect("sealing is written in place");
        assert_eq!(seen, want, "the two paths see different leaves");
        let meta = Value::Map(vec![Item::Entry("version".into(), Value::str("3.11.0"))]);
        let seal_all: Vec<Edit> = want
            .iter()
            .enumerate()
            .map(|(i, (_, s))| Edit::Seal(token(i, s)))
            .collect();
        if encrypted {
            // Opening: the output drops the `sops:` block, on both paths.
            let opens: Vec<Edit> = (0..want.len()).map(|i| Edit::Open(opened(i))).collect();
            let r = fast
                .render_leaves(&mut {
                    let mut i = 0;
                    move |_, _, _| {
                        i += 1;
                        Ok(Edit::Open(opened(i - 1)))
                    }
                })
                .expect("render_leaves");
            if let Some(r) = r {
                let got = fast.finish(r, None).expect("the streaming output must verify");
                // The lossless path refuses (its own re-parse check) a few odd `sops:` blocks,
                // e.g. one ending in a null list item; only compare when it writes something.
                if let Ok(expected) = lossless.render(&opens, None) {
                    assert_eq!(got.to_vec(), expected, "the two paths open to different bytes");
                }
            }
            continue;
        }
        let got = fast
            .finish(r, Some(&meta))
            .expect("the streaming output must verify")
            .to_vec();
        let expected = lossless.render(&seal_all, Some(&meta)).expect("lossless render");
        assert_eq!(got, expected, "the two paths write different bytes");
        // Cut in two (wherever a cut is possible), each half on its own thread: the bytes the
        // lossless path writes for the same tokens.
        let (mut n1, mut n2) = (0usize, 0usize);
        let split = fast
            .render_split_from(
                0,
                &mut |_, _, s| {
                    n1 += 1;
                    Ok(Edit::Seal(token(n1 - 1, s)))
                },
                &mut |_, _, _| {
                    n2 += 1;
                    Ok(Edit::Seal(format!("ENC[AES256_GCM,data:b{n2},iv:x,tag:y,type:str]")))
                },
            )
            .expect("render")
            .expect("in place");
        assert_eq!(n1 + n2, want.len());
        let edits: Vec<Edit> = want
            .iter()
            .enumerate()
            .map(|(i, (_, s))| {
                Edit::Seal(if i < n1 {
                    token(i, s)
                } else {
                    format!("ENC[AES256_GCM,data:b{},iv:x,tag:y,type:str]", i - n1 + 1)
                })
            })
            .collect();
        let got = fast
            .finish(split, Some(&meta))
            .expect("the two-part output must verify")
            .to_vec();
        let expected = lossless.render(&edits, Some(&meta)).expect("lossless render");
        assert_eq!(got, expected, "the two-part output differs");
    }
});
