//! Compiling the activities that read or test: Test, Read audience and Reconciliation.

use super::*;
use crate::audience::{RuleError, unfit};

impl<'a> Compiler<'a> {
    /// A Test: the population on the output its conditions choose.
    pub(super) fn test(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, input_table, flow_for, .. } = *scope;
        let ActivityKind::Test { conditions, .. } = &a.kind else { return Ok(()) };
        let Some(w) = input_table.as_deref() else { return Ok(()) };
        // Each output gets the population when its condition is the first that holds.
        let holds: Vec<Expr> = conditions.iter().map(|c| test_condition(w, &c.check)).collect();
        for i in 0..=conditions.len() {
            let name = if i < conditions.len() { format!("test_{}", i + 1) } else { "default".to_owned() };
            let flow = flow_for(&name);
            let t = self.table(&a.id, &name, &flow, out);
            let mut q = carry("w", w, &flow);
            for earlier in &holds[..i] {
                q.and_where(earlier.clone().not());
            }
            if let Some(this) = holds.get(i) {
                q.and_where(this.clone());
            }
            out.push(self.fill(&t, &flow, q)?);
        }
        Ok(())
    }

    /// A Read audience: a saved audience as a population.
    pub(super) fn read_audience(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, flow_for, .. } = *scope;
        let ActivityKind::ReadAudience { audience, .. } = &a.kind else { return Ok(()) };
        let saved =
            self.options.audience(audience).ok_or_else(|| unfit!("there is no saved audience called {audience}"))?;
        let entity = self.b.entity(&saved.dimension)?;
        let flow = flow_for("out");
        let t = self.table(&a.id, "out", &flow, out);
        // Members whose row has been deleted since are left out.
        let mut alive = Query::select();
        alive
            .expr(Expr::val(1))
            .from_as(Alias::new(&entity.name), Alias::new("t"))
            .and_where(col("t", &entity.primary_key).equals((Alias::new("m"), Alias::new("key"))));
        let mut q = Query::select();
        q.expr(col("m", "key"))
            .expr(Expr::val(Option::<String>::None))
            .from_as(Alias::new("cc_audience_members"), Alias::new("m"))
            .and_where(col("m", "audience_id").eq(saved.id))
            .and_where(Expr::exists(alive));
        out.push(self.fill(&t, &flow, q)?);
        Ok(())
    }

    /// A Reconciliation: the lines of a file matched to rows of an entity.
    pub(super) fn reconciliation(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, flow_for, .. } = *scope;
        let ActivityKind::Reconciliation { file, entity, rules, keep_unreconciled, .. } = &a.kind else {
            return Ok(());
        };
        let target = self.b.entity(entity)?;
        let csv = self
            .analysis
            .files
            .get(&a.id)
            .ok_or_else(|| "internal error: the file was not read during validation".to_owned())?;
        let flow = flow_for("out");
        let lines = self.load_file(a, file.trim(), csv, &flow)?;
        // Line f matches row t when every rule's columns are equal.
        let mut matches: Vec<Expr> = Vec::new();
        for r in rules {
            let fc = reconcile::find(&csv.columns, &r.file_column)
                .ok_or_else(|| unfit!("the file has no column {}", r.file_column))?;
            let column_type = target.column(&r.entity_column).map(|c| c.column_type);
            let file_value = match (self.options.dialect, column_type) {
                (Dialect::Postgres, Some(t)) if t != ColumnType::Text => {
                    col("f", &fc.alias).cast_as(Alias::new(self.sql_type(Some(t))))
                }
                _ => col("f", &fc.alias),
            };
            matches.push(col("t", &r.entity_column).eq(file_value));
        }
        let all = |m: &[Expr]| m.iter().cloned().reduce(|a, b| a.and(b)).unwrap_or_else(|| Expr::cust("1 = 0"));
        let t = self.table(&a.id, "out", &flow, out);
        let mut q = Query::select();
        q.expr(col("t", &target.primary_key)).expr(Expr::val(Option::<String>::None));
        for c in &csv.columns {
            q.expr(col("f", &c.alias));
        }
        q.from_as(Alias::new(&lines), Alias::new("f"))
            .cross_join(Alias::new(&target.name).into_table_ref().alias(Alias::new("t")))
            .and_where(all(&matches))
            .order_by((Alias::new("f"), Alias::new("key")), Order::Asc);
        // A row named by several lines is taken once, with the first line's values.
        let mut cols = vec![Alias::new("key"), Alias::new("seg")];
        cols.extend(flow.columns.iter().map(|c| Alias::new(&c.alias)));
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(&t))
            .columns(cols)
            .on_conflict(sea_query::OnConflict::column(Alias::new("key")).do_nothing().to_owned());
        insert.select_from(q).map_err(|e| RuleError::Sql(e.to_string()))?;
        out.push(self.insert(&insert));
        if *keep_unreconciled {
            let uflow = flow_for("unreconciled");
            let u = self.table(&a.id, "unreconciled", &uflow, out);
            let mut found = Query::select();
            found.expr(Expr::val(1)).from_as(Alias::new(&target.name), Alias::new("t")).and_where(all(&matches));
            let mut q = carry("f", &lines, &uflow);
            q.and_where(Expr::not_exists(found));
            out.push(self.fill(&u, &uflow, q)?);
        }
        Ok(())
    }
}
