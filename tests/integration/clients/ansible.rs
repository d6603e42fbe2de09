//! A real client of `sops`: one Ansible playbook run (PyPI `ansible`, which bundles the
//! community.sops collection) with veil on `PATH` as `sops`. It exercises every way the
//! collection calls sops — the `community.sops.sops` lookup, `community.sops.load_vars`, the
//! vars plugin on `group_vars/*.sops.yaml`, the `community.sops.decrypt` filter and the
//! `community.sops.sops_encrypt` module — and checks the values Ansible saw. The collection
//! reads `sops --version` to choose its command line, so this also checks that veil's answer
//! leads it to commands veil understands.
//!
//! Needs `ansible-playbook` (`scripts/peers.sh install`); with `CI=true` a missing one fails.

use crate::support::*;

#[test]
fn ansible_community_sops_reads_and_writes_through_veil_named_sops() {
    if !require_peer("ansible-playbook") {
        return;
    }
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let r1 = TestKey::Age1.recipient();

    // veil, named sops, first on PATH.
    let bin = sb.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_veil"), bin.join("sops")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let encrypt = |name: &str, plain: &str| {
        let p = sb.write(&format!("{name}.plain.yaml"), plain);
        let enc = run_ok(
            sb.veil().args(["encrypt", "--age", &r1]).arg(&p),
            "veil encrypt",
        );
        sb.write(name, enc);
    };
    encrypt(
        "secret.sops.yaml",
        "db_password: lookup-secret-91\nport: 5432\n",
    );
    encrypt(
        "group_vars/all.sops.yaml",
        "group_secret: group-secret-37\n",
    );
    sb.write(
        "ansible.cfg",
        "[defaults]\ninventory = hosts\nvars_plugins_enabled = host_group_vars,community.sops.sops\n\
         retry_files_enabled = false\nlocal_tmp = .ansible/tmp\n",
    );
    sb.write(
        "hosts",
        "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
    );
    sb.write(
        "play.yaml",
        format!(
            r#"- hosts: all
  gather_facts: false
  tasks:
    - name: the lookup plugin
      ansible.builtin.set_fact:
        from_lookup: "{{{{ lookup('community.sops.sops', 'secret.sops.yaml') | from_yaml }}}}"
    - name: load_vars
      community.sops.load_vars:
        file: secret.sops.yaml
        name: loaded
    - name: the decrypt filter
      ansible.builtin.set_fact:
        from_filter: "{{{{ lookup('ansible.builtin.file', 'secret.sops.yaml') | community.sops.decrypt | from_yaml }}}}"
    - name: sops_encrypt
      community.sops.sops_encrypt:
        path: "{{{{ playbook_dir }}}}/written.sops.yaml"
        content_yaml:
          written: value-from-ansible
        age:
          - {r1}
    - name: what Ansible saw
      ansible.builtin.copy:
        dest: "{{{{ playbook_dir }}}}/seen.json"
        content: "{{{{ {{'lookup': from_lookup, 'loaded': loaded, 'filter': from_filter, 'group': group_secret}} | to_json }}}}"
"#
        ),
    );
    let out = run_ok(
        sb.peer("ansible-playbook")
            .env("PATH", &path)
            .env("ANSIBLE_CONFIG", sb.path().join("ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .arg("play.yaml"),
        "ansible-playbook",
    );
    let log = text(&out).to_string();
    assert!(log.contains("failed=0"), "{log}");

    let seen: serde_json::Value =
        serde_json::from_slice(&sb.read("seen.json")).expect("seen.json is JSON");
    assert_eq!(seen["lookup"]["db_password"], "lookup-secret-91", "{seen}");
    assert_eq!(seen["lookup"]["port"], 5432, "{seen}");
    assert_eq!(seen["loaded"]["db_password"], "lookup-secret-91", "{seen}");
    assert_eq!(seen["filter"]["db_password"], "lookup-secret-91", "{seen}");
    assert_eq!(seen["group"], "group-secret-37", "{seen}");

    // What sops_encrypt wrote is a sops file for the age key, readable by veil.
    let written = text(&sb.read("written.sops.yaml")).to_string();
    assert!(written.contains("\nsops:\n"), "{written}");
    assert!(written.contains(&r1), "{written}");
    assert!(!written.contains("value-from-ansible"), "{written}");
    let dec = run_ok(
        sb.veil()
            .arg("decrypt")
            .arg(sb.path().join("written.sops.yaml")),
        "veil decrypt",
    );
    assert_eq!(text(&dec), "written: value-from-ansible\n");
}
