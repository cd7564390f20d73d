//! Checking the targeting activities: combine, enrichment, split, deduplication, change of
//! dimension.

use super::*;

pub(super) fn combine(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { a, input, inbound, .. } = *scope;
    let ActivityKind::Combine { mode, primary, complement, .. } = &a.kind else { return None };
    let count = inbound.len();
    if *mode != CombineMode::Union && count < 2 {
        ck.add(Some(a), None, "needs at least two inbound populations");
    }
    if *complement && *mode == CombineMode::Union {
        ck.add(Some(a), Some("complement"), "a union has no complement");
    }
    if let Some(p) = primary
        && !ck.canvas.inbound(&a.id).any(|t| &t.id == p)
    {
        ck.add(Some(a), Some("primary"), format!("the primary set {p} is not one of its inbound transitions"));
    }
    input.map(|f| {
        let keys_only = Flow { dimension: f.dimension.clone(), columns: Vec::new() };
        let primary_flow = match (mode, primary) {
            (CombineMode::Union, _) => keys_only.clone(),
            (_, Some(p)) => inbound.iter().find(|i| i.id == p).and_then(|i| i.flow).unwrap_or(f).clone(),
            _ => f.clone(),
        };
        outputs(&a.kind)
            .into_iter()
            .map(|o| if o == "complement" { (o, keys_only.clone()) } else { (o, primary_flow.clone()) })
            .collect()
    })
}

pub(super) fn enrichment(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { b, a, input, same, dim, .. } = *scope;
    let ActivityKind::Enrichment { columns, .. } = &a.kind else { return None };
    let entity = dim?;
    let mut flow = input?.clone();
    if columns.is_empty() {
        ck.add(Some(a), Some("columns"), "add at least one column");
    }
    for (i, c) in columns.iter().enumerate() {
        let p = format!("columns[{}] ({})", i + 1, c.alias);
        if !is_identifier(&c.alias) || matches!(c.alias.as_str(), "key" | "seg") {
            ck.add(Some(a), Some(&p), "the alias must be lower-case letters, digits and _, starting with a letter");
        } else if flow.columns.iter().any(|w| w.alias == c.alias) {
            ck.add(Some(a), Some(&p), "another column already has this alias");
        }
        match b.enrichment(&c.source, entity, "t") {
            Ok((_, column_type)) => flow.columns.push(WorkColumn { alias: c.alias.clone(), column_type }),
            Err(e) => ck.add(Some(a), Some(&p), e),
        }
    }
    Some(same(&flow))
}

pub(super) fn split(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { b, a, input, same, dim, .. } = *scope;
    let ActivityKind::Split { subsets, .. } = &a.kind else { return None };
    let entity = dim?;
    if subsets.is_empty() {
        ck.add(Some(a), Some("subsets"), "add at least one subset");
    }
    // Filters and sorts may use the population's enrichment columns too.
    let work = input.map_or(&[][..], |f| f.columns.as_slice());
    for (i, s) in subsets.iter().enumerate() {
        let p = format!("subset {} ({})", i + 1, s.label);
        if let Err(e) = b.rule_with(&s.filter, entity, "t", work) {
            ck.add(Some(a), Some(&p), e);
        }
        check_limit(ck, a, &p, s.limit.as_ref());
        if let Pick::Sorted { column, .. } = &s.pick
            && entity.column(column).is_none()
            && !work.iter().any(|w| w.alias == *column)
        {
            ck.add(Some(a), Some(&p), format!("{} has no column \u{201c}{column}\u{201d} to sort by", entity.label));
        }
    }
    input.map(same)
}

pub(super) fn deduplication(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { a, input, same, dim, .. } = *scope;
    let ActivityKind::Deduplication { columns, keep, method, .. } = &a.kind else { return None };
    let entity = dim?;
    if columns.is_empty() {
        ck.add(Some(a), Some("columns"), "choose the columns that identify duplicates");
    }
    for c in columns {
        if entity.column(c).is_none() {
            ck.add(Some(a), Some("columns"), format!("{} has no column \u{201c}{c}\u{201d}", entity.label));
        }
    }
    if *keep == 0 {
        ck.add(Some(a), Some("keep"), "keep at least one row of each group");
    }
    if let DedupMethod::KeepBy { column, .. } | DedupMethod::FirstNonEmpty { column } = method
        && entity.column(column).is_none()
    {
        ck.add(Some(a), Some("method"), format!("{} has no column \u{201c}{column}\u{201d}", entity.label));
    }
    input.map(same)
}

pub(super) fn change_dimension(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { b, a, input, dim, .. } = *scope;
    let ActivityKind::ChangeDimension { to, .. } = &a.kind else { return None };
    let entity = dim?;
    let f = input?;
    match b.relation(entity, to) {
        Err(e) => {
            ck.add(Some(a), Some("to"), e);
            None
        }
        Ok(super::super::expr::Relation::Children { .. }) => {
            Some(vec![("out".into(), Flow { dimension: Some(to.clone()), columns: f.columns.clone() })])
        }
        Ok(super::super::expr::Relation::Parent { .. }) => {
            Some(vec![("out".into(), Flow { dimension: Some(to.clone()), columns: Vec::new() })])
        }
    }
}
