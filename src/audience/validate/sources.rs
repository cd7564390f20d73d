//! Checking the activities that read or test: Test, Read audience and Reconciliation.

use super::*;

pub(super) fn test(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { a, input, same, .. } = *scope;
    let ActivityKind::Test { conditions, .. } = &a.kind else { return None };
    for (i, cond) in conditions.iter().enumerate() {
        if let crate::model::TestCheck::Count { op, .. } = &cond.check
            && !matches!(op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
        {
            ck.add(
                Some(a),
                Some(&format!("condition {} ({})", i + 1, cond.label)),
                "compare the count with =, ≠, <, ≤, > or ≥",
            );
        }
    }
    input.map(same)
}

pub(super) fn read_audience(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { b, a, .. } = *scope;
    let ActivityKind::ReadAudience { audience, .. } = &a.kind else { return None };
    let name = audience.trim();
    if name.is_empty() {
        ck.add(Some(a), Some("audience"), "choose the saved audience to read");
        None
    } else if let Some(saved) = ck.options.audience(name) {
        if b.model.entity(&saved.dimension).is_none() {
            let message = format!("the saved audience holds {}, which the data model no longer has", saved.dimension);
            ck.add(Some(a), Some("audience"), message);
            None
        } else {
            let flow = Flow { dimension: Some(saved.dimension.clone()), columns: Vec::new() };
            Some(vec![("out".to_owned(), flow)])
        }
    } else {
        ck.add(
                Some(a),
                Some("audience"),
                format!(
                    "there is no saved audience called \u{201c}{name}\u{201d} (a campaign's Save audience activity creates one when the campaign runs)"
                ),
            );
        None
    }
}

pub(super) fn reconciliation(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { b, a, .. } = *scope;
    let ActivityKind::Reconciliation { file, entity, rules, .. } = &a.kind else { return None };
    let target = match b.entity(entity) {
        Ok(e) => Some(e),
        Err(e) => {
            ck.add(Some(a), Some("entity"), e);
            None
        }
    };
    let header = if file.trim().is_empty() {
        ck.add(Some(a), Some("file"), "choose the CSV file to reconcile");
        None
    } else {
        match ck.options.file(file).map(|f| f.header.clone()) {
            Some(Ok(h)) => Some(h),
            Some(Err(e)) => {
                ck.add(Some(a), Some("file"), e);
                None
            }
            None => {
                ck.add(Some(a), Some("file"), format!("{} was not read: count again", file.trim()));
                None
            }
        }
    };
    if rules.is_empty() {
        ck.add(
            Some(a),
            Some("rules"),
            "add at least one rule: which column of the file matches which column of the data",
        );
    }
    for (i, r) in rules.iter().enumerate() {
        let p = format!("rules[{}]", i + 1);
        if let Some((_, columns)) = &header
            && reconcile::find(columns, &r.file_column).is_none()
        {
            let names: Vec<&str> = columns.iter().map(|c| c.header.as_str()).collect();
            ck.add(
                Some(a),
                Some(&p),
                format!("the file has no column \u{201c}{}\u{201d} (its columns: {})", r.file_column, names.join(", ")),
            );
        }
        if let Some(e) = target
            && e.column(&r.entity_column).is_none()
        {
            ck.add(Some(a), Some(&p), format!("{} has no column \u{201c}{}\u{201d}", e.label, r.entity_column));
        }
    }
    match (target, header) {
        (Some(e), Some((delimiter, columns))) => {
            let work: Vec<WorkColumn> =
                columns.iter().map(|c| WorkColumn { alias: c.alias.clone(), column_type: ColumnType::Text }).collect();
            ck.files.insert(a.id.clone(), CsvFile { delimiter, columns });
            let out = Flow { dimension: Some(e.name.clone()), columns: work.clone() };
            // Unmatched lines belong to no entity: they can be counted and looked at.
            let unreconciled = Flow { dimension: None, columns: work };
            Some(
                outputs(&a.kind)
                    .into_iter()
                    .map(|o| if o == "unreconciled" { (o, unreconciled.clone()) } else { (o, out.clone()) })
                    .collect(),
            )
        }
        _ => None,
    }
}
