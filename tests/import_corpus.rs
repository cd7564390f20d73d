//! Importing CSV files that are wrong in every way a real export can be: each gives a precise
//! message (the whole file, or each refused row with its line and reason) and writes nothing
//! it should not — a refused file leaves no entity, table or data-version change behind; a
//! refused row leaves no trace in the table.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use std::path::Path;

use campaign_console::console::{Console, ConsoleError, ImportReport};
use campaign_console::import::{DateFormat, Key, Mapping, Mode};
use campaign_console::model::ColumnType;
use campaign_console::ui::testing;
use support::{one, sqlite};

/// What a case must end in.
enum Expect {
    /// The file is refused as a whole; the message holds this.
    File(&'static str),
    /// The mapping is refused before reading; a problem holds this.
    Mapping(&'static str),
    /// So many rows written, and these rejects (line, words of the reason), exactly.
    Rows(u64, &'static [(u64, &'static str)]),
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// Changes to the mapping the file suggests.
    tweak: fn(&mut Mapping),
    expect: Expect,
}

fn case(name: &'static str, text: &str, expect: Expect) -> Case {
    Case { name, bytes: text.as_bytes().to_vec(), tweak: |_| {}, expect }
}

fn bytes(name: &'static str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case { name, bytes, tweak: |_| {}, expect }
}

fn tweaked(name: &'static str, text: &str, tweak: fn(&mut Mapping), expect: Expect) -> Case {
    Case { name, bytes: text.as_bytes().to_vec(), tweak, expect }
}

fn col<'m>(m: &'m mut Mapping, source: &str) -> &'m mut campaign_console::import::ColumnMapping {
    m.columns.iter_mut().find(|c| c.source == source).unwrap()
}

fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend(if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
    }
    for u in text.encode_utf16() {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[expect(clippy::too_many_lines, reason = "the corpus: one line per kind of broken file")]
fn corpus() -> Vec<Case> {
    use Expect::{File, Mapping as Refused, Rows};
    let big = format!("id,note\n1,{}\n2,ok\n", "x".repeat(10 << 20));
    vec![
        case("empty file", "", File("is empty")),
        case("header only", "id,name\n", File("no rows under its first line")),
        case("only blank lines under the header", "id,name\n\n\n", File("no rows under its first line")),
        case(
            "a line too long",
            "id,name\n1,Ann\n2,Bob,extra\n3,Cy\n",
            Rows(2, &[(3, "has 3 values where the first line names 2")]),
        ),
        case(
            "a line too short",
            "id,name,city\n1,Ann,Paris\n2,Bob\n",
            Rows(1, &[(3, "has 2 values where the first line names 3")]),
        ),
        case(
            "an unclosed quote swallows the rest",
            "id,name\n1,\"Ann\n2,Bob\n",
            File("a quote opened on line 2 is never closed"),
        ),
        case("a stray quote inside a value", "id,name\n1,An\"n\n2,Bob\n", Rows(2, &[])),
        case("quotes around a delimiter", "id,name\n1,\"Martin, Ann\"\n", Rows(1, &[])),
        bytes(
            "one Latin-1 line in a UTF-8 file",
            b"id,name\n1,Zo\xc3\xab\n2,Zo\xeb\n3,Al\n".to_vec(),
            Rows(2, &[(3, "is not UTF-8 text (the file mixes encodings")]),
        ),
        bytes("a UTF-8 byte order mark", b"\xEF\xBB\xBFid,name\n1,Ann\n".to_vec(), Rows(1, &[])),
        bytes("UTF-16 with its mark", utf16("id,name\n1,Zoë\n2,Bob\n", true, true), Rows(2, &[])),
        bytes("UTF-16 big-endian without a mark", utf16("id,name\n1,Ann\n", false, false), Rows(1, &[])),
        bytes("Latin-1 throughout", b"id,name\n1,Zo\xeb\n2,Ren\xe9e\n".to_vec(), Rows(2, &[])),
        case("two columns with one name", "id,name,name\n1,Ann,Anna\n", Rows(1, &[])),
        case("a column without a name", "id,,name\n1,x,Ann\n", Rows(1, &[])),
        case("a 10 MB value", &big, Rows(1, &[(2, "more than the 1048576 a value may hold")])),
        case("a formula", "id,name\n1,=cmd|' /C calc'!A0\n", Rows(1, &[])),
        bytes("a NUL byte", b"id,name\n1,A\x00nn\n2,Bob\n".to_vec(), Rows(1, &[(2, "holds a NUL character")])),
        bytes("binary junk", b"id,name\n1,\x89PNG\x00\x00\x1a\n".to_vec(), Rows(0, &[(2, "holds a NUL character")])),
        case("ISO dates", "id,born\n1,1990-04-30\n2,1985-12-01\n", Rows(2, &[])),
        case("day-first dates", "id,born\n1,30/04/1990\n2,01/12/1985\n3,13/01/2000\n", Rows(3, &[])),
        case("month-first dates", "id,born\n1,04/30/1990\n2,12/01/1985\n3,01/13/2000\n", Rows(3, &[])),
        case(
            "an impossible date among good ones",
            "id,born\n1,30/04/1990\n2,31/04/1990\n3,13/01/2000\n4,14/02/2000\n5,15/03/2000\n",
            Rows(4, &[(3, "is not a date written dd/mm/yyyy")]),
        ),
        tweaked(
            "a date in another format than chosen",
            "id,born\n1,1990-04-30\n2,30/04/1990\n",
            |m| {
                let c = col(m, "born");
                c.column_type = ColumnType::Date;
                c.date_format = DateFormat::Iso;
            },
            Rows(1, &[(3, "is not a date written ISO")]),
        ),
        case(
            "thousands separators in whole numbers",
            "id,visits\n1,12\n2,1,234\n3,7\n4,8\n5,9\n",
            Rows(4, &[(3, "has 3 values")]),
        ),
        tweaked(
            "thousands separators, quoted",
            "id,visits\n1,12\n2,\"1,234,567\"\n3,7\n",
            |m| col(m, "visits").column_type = ColumnType::Integer,
            Rows(2, &[(3, "has a thousands separator")]),
        ),
        tweaked(
            "grouped decimals",
            "id;amount\n1;12,5\n2;1 234,50\n",
            |m| col(m, "amount").column_type = ColumnType::Decimal,
            Rows(1, &[(3, "has a thousands separator")]),
        ),
        case("decimal commas with semicolons", "id;amount\n1;12,5\n2;3,25\n", Rows(2, &[])),
        case("a repeated key", "id,name\n1,Ann\n2,Bob\n2,Bea\n", Rows(2, &[(4, "is the key 2 a second time")])),
        case("a missing key", "id,name\n1,Ann\n,Bob\n", Rows(1, &[(3, "is the key and is empty")])),
        tweaked(
            "a key that is not a number",
            "id,name\n1,Ann\nA12,Bob\n3,Cy\n4,Di\n5,Ed\n",
            |m| m.key = Key::Column("id".into()),
            Rows(4, &[(3, "is not a whole number")]),
        ),
        case(
            "a number too large",
            "id,visits\n1,5\n2,99999999999999999999999\n3,6\n4,7\n5,8\n",
            Rows(4, &[(3, "is not a whole number")]),
        ),
        case(
            "email addresses that are not",
            "id,email\n1,ann@example.com\n2,bob(at)example.com\n3,cy@localhost\n",
            Rows(1, &[(3, "is not an email address"), (4, "is not an email address")]),
        ),
        case(
            "phone numbers that are not",
            "id,phone\n1,06 12 34 56 78\n2,12\n",
            Rows(1, &[(3, "is not a phone number")]),
        ),
        tweaked(
            "a default country that is not one",
            "id,phone\n1,0612345678\n",
            |m| m.default_country = "ZZ".into(),
            Refused("ZZ is not a country code"),
        ),
        tweaked(
            "an entity name that cannot be one",
            "id,name\n1,Ann\n",
            |m| m.entity = "Customers 2024!".into(),
            Refused("cannot name an entity"),
        ),
        tweaked(
            "two file columns into one column",
            "id,first,last\n1,Ann,Lee\n",
            |m| col(m, "last").target = Some("first".into()),
            Refused("two file columns go to the column first"),
        ),
        tweaked(
            "a link to an entity that does not exist",
            "id,shop_id\n1,4\n",
            |m| col(m, "shop_id").link = Some("shops".into()),
            Refused("links to shops, which is not an entity"),
        ),
        tweaked(
            "updating numbered rows",
            "name\nAnn\n",
            |m| m.mode = Mode::Upsert,
            Refused("numbered rows are always new"),
        ),
        case("tab-separated", "id\tname\n1\tAnn\n2\tBob\n", Rows(2, &[])),
        case("bar-separated", "id|name\n1|Ann\n", Rows(1, &[])),
        case("blank lines between rows", "id,name\n1,Ann\n\n\n2,Bob\n", Rows(2, &[])),
        case("Windows line ends", "id,name\r\n1,Ann\r\n2,Bob\r\n", Rows(2, &[])),
        case(
            "yes and no in words",
            "id,vip\n1,oui\n2,non\n3,yes\n4,no\n5,maybe\n",
            Rows(4, &[(6, "is not yes or no")]),
        ),
        tweaked(
            "epoch timestamps",
            "id,seen\n1,1774965900\n2,1774965900000\n",
            |m| {
                let c = col(m, "seen");
                c.column_type = ColumnType::Timestamp;
                c.date_format = DateFormat::Epoch;
            },
            Rows(2, &[]),
        ),
        case("no header line", "1,Ann\n2,Bob\n", Rows(2, &[])),
    ]
}

fn import(console: &Console, path: &Path, entity: &str, tweak: fn(&mut Mapping)) -> Result<ImportReport, ConsoleError> {
    let sample = console.import_sample(path, None)?;
    let mut mapping = console.guess_mapping(&sample, entity)?;
    tweak(&mut mapping);
    console.import_file(path, &sample.format, &mapping, true, None, &mut |_, _| {}, &|| false)
}

fn table_exists(db: &rusqlite::Connection, name: &str) -> bool {
    one(db, &format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{name}'")) == 1
}

#[test]
fn every_broken_file_says_what_is_wrong_and_writes_nothing_it_should_not() {
    let cases = corpus();
    assert!(cases.len() >= 40, "the corpus has {} files", cases.len());
    let files = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let console = testing::console(dir.path()).unwrap();
        let path = files.path().join(format!("case{i}.csv"));
        std::fs::write(&path, &c.bytes).unwrap();
        let entity = format!("people{i}");
        let db = sqlite(dir.path());
        let version_before = campaign_console::store::customer_data::data_version(&db).unwrap();
        let result = import(&console, &path, &entity, c.tweak);
        let nothing_written = || {
            !table_exists(&db, &entity)
                && campaign_console::store::customer_data::data_version(&db).unwrap() == version_before
        };
        let said = match (&c.expect, &result) {
            (Expect::File(words), Err(e)) if e.to_string().contains(words) && nothing_written() => None,
            (Expect::Mapping(words), Err(ConsoleError::Import(campaign_console::import::ImportError::Mapping(p))))
                if p.iter().any(|p| p.contains(words)) && nothing_written() =>
            {
                None
            }
            (Expect::Rows(n, rejects), Ok(report)) => {
                let got: Vec<(u64, &str)> = report.rejects.iter().map(|r| (r.line, r.reason.as_str())).collect();
                let rows =
                    if table_exists(&db, &entity) { one(&db, &format!("SELECT COUNT(*) FROM {entity}")) } else { -1 };
                let same = got.len() == rejects.len()
                    && got.iter().zip(rejects.iter()).all(|((l, r), (el, er))| l == el && r.contains(er));
                (!(report.written == *n && rows == *n as i64 && same))
                    .then(|| format!("wrote {} (table has {rows}), rejects {got:?}", report.written))
            }
            (_, Ok(report)) => Some(format!("imported: {}, rejects {:?}", report.summary(), report.rejects)),
            (_, Err(e)) => Some(format!("refused: {e}; nothing written: {}", nothing_written())),
        };
        if let Some(said) = said {
            failures.push(format!("{} (case{i}.csv): {said}", c.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases went wrong:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn values_land_as_their_types_with_addresses_written_one_way() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let path = dir.path().join("customers.csv");
    std::fs::write(
        &path,
        "customer_id,email,phone,born,vip,spent,note\n\
         1,ANN@Example.com,06 12 34 56 78,30/04/1990,yes,\"12,5\",=cmd|' /C calc'!A0\n\
         2,bob@example.com,+1 415 555 2671,01/12/1985,no,3,\n",
    )
    .unwrap();
    let report = import(&console, &path, "customers", |_| {}).unwrap();
    assert_eq!((report.written, report.refused), (2, 0), "{report:?}");
    let db = sqlite(dir.path());
    let row: (String, String, String, i64, f64, String) = db
        .query_row("SELECT email, phone, born, vip, spent, note FROM customers WHERE customer_id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .unwrap();
    assert_eq!(
        row,
        ("ann@example.com".into(), "+33612345678".into(), "1990-04-30".into(), 1, 12.5, "=cmd|' /C calc'!A0".into())
    );
    let model = console.data_overview().unwrap();
    let ns: Vec<(String, String)> =
        model.identity_namespaces.iter().map(|n| (n.name.clone(), n.column.clone())).collect();
    assert_eq!(ns, [("email".to_owned(), "email".to_owned()), ("phone".to_owned(), "phone".to_owned())]);
}
