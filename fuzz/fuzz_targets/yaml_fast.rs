//! The streaming YAML path against the lossless one, on arbitrary input: it must never panic;
//! whatever it accepts the lossless parser must accept with the same leaves, and sealing every
//! leaf must give the same bytes on both paths and pass the streaming path's own re-parse check.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veil::format::yaml::{FastYaml, YamlDocument};
use veil::format::{Edit, Parsed};
use veil::tree::{Item, Scalar, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for encrypted in [false, true] {
        let Ok(fast) = FastYaml::scan(text.to_string(), encrypted) else {
            continue;
        };
        let _ = fast.metadata();
        let lossless = YamlDocument::parse(data).expect("the lossless path must accept it too");
        let mut want = vec![];
        veil::tree::walk_leaves_aad(lossless.docs(), |_, _, a, s| {
            want.push((a.to_string(), s.clone()))
        });
        let mut seen = vec![];
        let token = |i: usize, s: &Scalar| {
            format!("ENC[AES256_GCM,data:d{i},iv:i{i},tag:t{i},type:{}]", s.type_name())
        };
        let r = fast
            .render_leaves(&mut |_, a, s| {
                let e = Edit::Seal(token(seen.len(), s));
                seen.push((a.to_string(), s.clone()));
                Ok(e)
            })
            .expect("render_leaves")
            .expect("sealing is written in place");
        assert_eq!(seen, want, "the two paths see different leaves");
        if encrypted {
            continue;
        }
        let edits: Vec<Edit> = want
            .iter()
            .enumerate()
            .map(|(i, (_, s))| Edit::Seal(token(i, s)))
            .collect();
        let meta = Value::Map(vec![Item::Entry("version".into(), Value::str("3.11.0"))]);
        let got = fast
            .finish(r, Some(&meta))
            .expect("the streaming output must verify")
            .to_vec();
        let expected = lossless.render(&edits, Some(&meta)).expect("lossless render");
        assert_eq!(got, expected, "the two paths write different bytes");
    }
});
