//! Object rules compiled to SQL return exactly the objects a per-object check allows, on every
//! database: random rules (comparisons with the user and constants, NULLs, text differing only in
//! case, booleans, group membership, permissions, and/or/not) over random rows, for active,
//! inactive and superusers, combined with django-guardian grants of users and groups.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use castellan_core::object_perms::{self, ObjectRef};
use castellan_core::rules::{CmpOp, ObjectRules, Operand, Rule, RuleSubject, Value};
use castellan_core::{ModelSpec, Registry};
use castellan_store::sql::SqlText;
use castellan_store::{ObjectHolder, Store};
use castellan_testkit::{cheap_options, per_db, perms as s, user, TestDb};

/// SplitMix64: a seeded generator, so a failure names its case.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

const STATUSES: [&str; 4] = ["draft", "review", "published", "Draft"];
const PERM: &str = "shop.change_doc";

fn random_rule(rng: &mut Prng, depth: u32) -> Rule {
    let leaf = depth == 0 || rng.below(3) == 0;
    if leaf {
        return match rng.below(9) {
            0 => Rule::is_user("author_id"),
            1 => Rule::Cmp {
                field: "author_id".into(),
                op: CmpOp::Ne,
                rhs: Operand::User,
            },
            2 => Rule::eq("status", Value::text(rng.pick(&STATUSES))),
            3 => Rule::cmp("status", CmpOp::Ne, Value::text(rng.pick(&STATUSES))),
            4 => {
                let op = rng.pick(&[CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq]);
                Rule::cmp("score", op, Value::Int(rng.below(5) as i64))
            }
            5 => Rule::IsNull((rng.pick(&["author_id", "score"])).into()),
            6 => Rule::eq("flag", Value::Bool(rng.below(2) == 0)),
            7 => Rule::in_group(rng.pick(&["A", "B"])),
            _ => Rule::has_perm(rng.pick(&["shop.view_doc", "shop.delete_doc"])),
        };
    }
    let n = rng.below(3) as usize;
    let children: Vec<Rule> = (0..n).map(|_| random_rule(rng, depth - 1)).collect();
    match rng.below(3) {
        0 => Rule::All(children),
        1 => Rule::Any(children),
        _ => Rule::not(random_rule(rng, depth - 1)),
    }
}

async fn docs(store: &Store) -> Vec<(i64, BTreeMap<String, Value>)> {
    let mut q = SqlText::new(store.dialect());
    q.push("SELECT id, author_id, status, score, flag FROM shop_doc ORDER BY id");
    let mut out = Vec::new();
    for r in store.db().fetch_all(&q, &[]).await.unwrap() {
        let id = r.int("id").unwrap();
        let fields = BTreeMap::from([
            (
                "author_id".into(),
                r.opt_int("author_id")
                    .unwrap()
                    .map_or(Value::Null, Value::Int),
            ),
            ("status".into(), Value::Text(r.text("status").unwrap())),
            (
                "score".into(),
                r.opt_int("score").unwrap().map_or(Value::Null, Value::Int),
            ),
            ("flag".into(), Value::Bool(r.flag("flag").unwrap())),
        ]);
        out.push((id, fields));
    }
    out
}

async fn compiled_filters_equal_the_per_object_check(db: TestDb) {
    let store = Store::connect_with(&db.url, cheap_options()).await.unwrap();
    let registry = Registry::django()
        .with_app("shop", "Shop")
        .unwrap()
        .with_model(ModelSpec::new("shop", "Doc"))
        .unwrap();
    store.migrate(&registry).await.unwrap();
    store.install_object_permissions().await.unwrap();
    let bool_type = if store.dialect() == castellan_store::Dialect::Postgres {
        "boolean"
    } else {
        "smallint"
    };
    store
        .execute_raw(&format!(
            "CREATE TABLE shop_doc (id integer NOT NULL PRIMARY KEY, author_id integer NULL, \
             status varchar(20) NOT NULL, score integer NULL, flag {bool_type} NOT NULL)"
        ))
        .await
        .unwrap();
    let mut rng = Prng(0x5EED + db.kind() as u64);
    let mut rows = Vec::new();
    for id in 1..=40 {
        let author = match rng.below(5) {
            0 => "NULL".to_owned(),
            n => n.to_string(),
        };
        let score = match rng.below(6) {
            0 => "NULL".to_owned(),
            n => (n - 1).to_string(),
        };
        let flag = if rng.below(2) == 0 { "TRUE" } else { "FALSE" };
        let flag = if store.dialect() == castellan_store::Dialect::Postgres {
            flag
        } else if flag == "TRUE" {
            "1"
        } else {
            "0"
        };
        rows.push(format!(
            "({id}, {author}, '{}', {score}, {flag})",
            rng.pick(&STATUSES)
        ));
    }
    store
        .execute_raw(&format!(
            "INSERT INTO shop_doc (id, author_id, status, score, flag) VALUES {}",
            rows.join(", ")
        ))
        .await
        .unwrap();
    // Users 1–4 (ids in creation order) and a superuser; groups A and B; global and object grants.
    let names = ["u1", "u2", "u3", "u4", "root"];
    for (i, name) in names.iter().enumerate() {
        user(&store, name, |u| {
            u.is_active = i != 2;
            u.is_superuser = *name == "root";
        })
        .await;
    }
    store.create_group("A").await.unwrap();
    store.create_group("B").await.unwrap();
    store.add_user_to_groups("u1", &s(&["A"])).await.unwrap();
    store
        .add_user_to_groups("u2", &s(&["A", "B"]))
        .await
        .unwrap();
    store.add_user_to_groups("u3", &s(&["B"])).await.unwrap();
    store
        .grant_user("u1", &s(&["shop.view_doc"]))
        .await
        .unwrap();
    store
        .grant_group("B", &s(&["shop.delete_doc"]))
        .await
        .unwrap();
    for _ in 0..12 {
        let doc = ObjectRef::new("shop", "doc", (rng.below(40) + 1).to_string()).unwrap();
        let holder = match rng.below(3) {
            0 => ObjectHolder::Group(rng.pick(&["A", "B"])),
            _ => ObjectHolder::User(rng.pick(&names[..4])),
        };
        store
            .grant_object_perms(holder, &s(&[PERM]), &doc)
            .await
            .unwrap();
    }
    // Rows whose key names no row when compared as text: "05", " 7", "abc", a key past i64.
    let u1 = store.principal("u1").await.unwrap().unwrap();
    let u1_id = u1.identity().id().unwrap().as_int().unwrap();
    for pk in ["05", " 7", "abc", "99999999999999999999", "-0"] {
        store
            .execute_raw(&format!(
                "INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id) \
                 SELECT '{pk}', p.content_type_id, p.id, {u1_id} FROM auth_permission p \
                 JOIN django_content_type ct ON ct.id = p.content_type_id \
                 WHERE ct.app_label = 'shop' AND p.codename = 'change_doc'"
            ))
            .await
            .unwrap();
    }
    let all_docs = docs(&store).await;
    // Each user's object grants, once: they do not change between rules.
    let mut subjects = Vec::new();
    for name in names {
        let who = store.principal(name).await.unwrap().unwrap();
        let groups = store
            .group_names_of(who.identity().id().unwrap())
            .await
            .unwrap();
        let mut granted = Vec::new();
        for (id, _) in &all_docs {
            let obj = ObjectRef::new("shop", "doc", id.to_string()).unwrap();
            let grants = store
                .object_grants(who.identity().id().unwrap(), &obj)
                .await
                .unwrap();
            granted.push(object_perms::has_perm(&who, &grants, PERM, &obj).unwrap());
        }
        subjects.push((who, groups, granted));
    }
    let mut compared = 0;
    for case in 0..60 {
        let rule = random_rule(&mut rng, 3);
        let rules = ObjectRules::new().with(PERM, rule.clone()).unwrap();
        for (who, groups, granted) in &subjects {
            let subject = RuleSubject { who, groups };
            let filter = store
                .object_filter(&rules, &subject, PERM, ("shop", "doc"), ("d", "id"))
                .await
                .unwrap();
            let mut q = SqlText::new(store.dialect());
            q.push("SELECT d.id AS id FROM shop_doc d WHERE ");
            filter.append_to(&mut q);
            q.push(" ORDER BY d.id");
            let got: Vec<i64> = store
                .db()
                .fetch_all(&q, &filter.args())
                .await
                .unwrap_or_else(|e| panic!("case {case}: {rule} failed: {e}\n{}", q.as_str()))
                .iter()
                .map(|r| r.int("id").unwrap())
                .collect();
            let want: Vec<i64> = all_docs
                .iter()
                .zip(granted)
                .filter(|((_, fields), granted)| **granted || rules.allows(&subject, PERM, fields))
                .map(|((id, _), _)| *id)
                .collect();
            assert_eq!(
                got,
                want,
                "{:?} case {case}: rule {rule} for {} (groups {groups:?}); SQL: {}",
                db.kind(),
                who.identity().username(),
                q.as_str()
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 300);
}

per_db!(compiled_filters_equal_the_per_object_check);
