//! Criterion benches for each format's parse, seal (render with every leaf sealed) and render
//! (render with every leaf opened), on generated inputs of 1,000 and 10,000 leaves; and the
//! streaming YAML path (`yaml-fast`: scan, then seal every leaf and check the output; in
//! pieces of 16 KB, checked one by one, as `encrypt` streams a big file), and the parse of a
//! sealed JSON file (`json-sealed`: long tokens, what `decrypt` reads).
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use veil::format::yaml::FastYaml;
use veil::format::{Edit, Format};
use veil::tree::walk_leaves;

fn yaml(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n / 2 {
        s.push_str(&format!(
            "key{i}:\n    user: user{i}\n    password: \"p@ss-{i}-xyz\"\n"
        ));
    }
    s
}

fn json(n: usize) -> String {
    let body: Vec<String> = (0..n)
        .map(|i| format!("\t\"key{i}\": \"value-{i}-secret\""))
        .collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}

fn dotenv(n: usize) -> String {
    (0..n)
        .map(|i| format!("KEY_{i}=value-{i}-secret\n"))
        .collect()
}

fn toml(n: usize) -> String {
    (0..n)
        .map(|i| format!("key{i} = \"value-{i}-secret\"\n"))
        .collect()
}

fn ini(n: usize) -> String {
    let mut s = String::from("[section]\n");
    for i in 0..n {
        s.push_str(&format!("key{i} = value-{i}-secret\n"));
    }
    s
}

const TOKEN: &str = "ENC[AES256_GCM,data:c2VjcmV0LXZhbHVl,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]";

fn bench(c: &mut Criterion) {
    for n in [1_000usize, 10_000] {
        for (fmt, input) in [
            (Format::Yaml, yaml(n)),
            (Format::Json, json(n)),
            (Format::Dotenv, dotenv(n)),
            (Format::Toml, toml(n)),
            (Format::Ini, ini(n)),
        ] {
            let store = fmt.store();
            let parsed = store
                .parse(input.as_bytes())
                .expect("generated input parses");
            let name = format!("{}/{n}", fmt.name());
            c.bench_function(&format!("parse/{name}"), |b| {
                b.iter(|| store.parse(black_box(input.as_bytes())).unwrap())
            });
            let mut leaves = Vec::new();
            walk_leaves(parsed.docs(), |_, _, s| leaves.push(s.clone()));
            let seal: Vec<Edit> = leaves
                .iter()
                .map(|_| Edit::Seal(TOKEN.to_string()))
                .collect();
            c.bench_function(&format!("seal/{name}"), |b| {
                b.iter(|| parsed.render(black_box(&seal), None).unwrap())
            });
            let open: Vec<Edit> = leaves.iter().map(|s| Edit::Open(s.clone())).collect();
            c.bench_function(&format!("render/{name}"), |b| {
                b.iter(|| parsed.render(black_box(&open), None).unwrap())
            });
        }
        let input = yaml(n);
        c.bench_function(&format!("parse/yaml-fast/{n}"), |b| {
            b.iter(|| {
                FastYaml::scan(black_box(input.clone()), false)
                    .ok()
                    .unwrap()
            })
        });
        let fast = FastYaml::scan(input.clone(), false).ok().unwrap();
        c.bench_function(&format!("seal/yaml-fast/{n}"), |b| {
            b.iter(|| {
                let r = fast
                    .render_leaves(&mut |_, _, _| Ok(Edit::Seal(TOKEN.to_string())))
                    .unwrap()
                    .unwrap();
                fast.finish(r, None).unwrap()
            })
        });
        c.bench_function(&format!("seal/yaml-fast-pieces/{n}"), |b| {
            b.iter(|| {
                let mut len = 0;
                for p in fast.pieces(16 * 1024) {
                    let r = fast
                        .render_piece(&p, &mut |_, _, _| Ok(Edit::Seal(TOKEN.to_string())))
                        .unwrap()
                        .unwrap();
                    len += fast.finish(r, None).unwrap().to_vec().len();
                }
                len
            })
        });
        let sealed = format!(
            "{{\n{}\n}}\n",
            (0..n)
                .map(|i| format!("\t\"key{i}\": \"{TOKEN}\""))
                .collect::<Vec<_>>()
                .join(",\n")
        );
        c.bench_function(&format!("parse/json-sealed/{n}"), |b| {
            b.iter(|| {
                Format::Json
                    .store()
                    .parse(black_box(sealed.as_bytes()))
                    .unwrap()
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
