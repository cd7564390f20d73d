//! Compiling the targeting activities: combine, enrichment, split, deduplication, change of
//! dimension and control group.

use super::*;
use crate::audience::RuleError;

impl<'a> Compiler<'a> {
    /// A Combine: the union, intersection or exclusion of its inbound populations.
    pub(super) fn combine(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, inbound, flow_for, .. } = *scope;
        let ActivityKind::Combine { mode, primary, complement, .. } = &a.kind else { return Ok(()) };
        let p = primary.as_ref().and_then(|p| inbound.iter().position(|(id, _, _)| id == p)).unwrap_or(0);
        let Some((_, primary_table, _)) = inbound.get(p) else { return Ok(()) };
        let flow = flow_for("out");
        let t = self.table(&a.id, "out", &flow, out);
        let select = match mode {
            CombineMode::Union => {
                // Outputs of one Split without overlap share no row: concatenated, not merged.
                let tables: Vec<&str> = inbound.iter().map(|(_, t, _)| t.as_str()).collect();
                let disjoint = self.disjoint.iter().any(|group| {
                    tables.iter().all(|t| group.iter().any(|g| g == t))
                        && tables.iter().enumerate().all(|(i, t)| !tables[..i].contains(t))
                });
                union_of(tables.into_iter(), if disjoint { UnionType::All } else { UnionType::Distinct })
            }
            CombineMode::Intersection | CombineMode::Exclusion => {
                let mut q = carry("p", primary_table, &flow);
                for (i, (_, other, _)) in inbound.iter().enumerate() {
                    if i != p {
                        let sub = key_in(other, "x", "p");
                        q.and_where(if *mode == CombineMode::Intersection {
                            Expr::exists(sub)
                        } else {
                            Expr::not_exists(sub)
                        });
                    }
                }
                q
            }
        };
        out.push(self.fill(&t, &flow, select)?);
        if *complement && *mode != CombineMode::Union {
            let cflow = flow_for("complement");
            let c = self.table(&a.id, "complement", &cflow, out);
            let mut q = Query::select();
            let source = if *mode == CombineMode::Intersection {
                q.from_subquery(
                    union_of(inbound.iter().map(|(_, t, _)| t.as_str()), UnionType::Distinct),
                    Alias::new("u"),
                );
                "u"
            } else {
                q.from_as(Alias::new(primary_table), Alias::new("u"));
                "u"
            };
            q.expr(col(source, "key"))
                .expr(Expr::val(Option::<String>::None))
                .and_where(Expr::not_exists(key_in(&t, "o", source)));
            out.push(self.fill(&c, &cflow, q)?);
        }
        Ok(())
    }

    /// An Enrichment: the population with columns added from linked data.
    pub(super) fn enrichment(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, input_flow, input_table, dim, flow_for, .. } = *scope;
        let ActivityKind::Enrichment { columns, .. } = &a.kind else { return Ok(()) };
        let (Some(entity), Some(w)) = (dim, input_table.as_deref()) else { return Ok(()) };
        let flow = flow_for("out");
        let mut q = carry("w", w, input_flow);
        let facts = self.facts(columns, entity, &flow, out)?;
        match &facts {
            // Every value is read from the facts, which hold every row of the entity (as every
            // population holds rows of it only): the rows themselves are not read.
            Some(f) if f.all() => f.join(&mut q, "w", "key"),
            Some(f) => {
                join_dimension(&mut q, entity);
                f.join(&mut q, "t", &entity.primary_key);
            }
            None => join_dimension(&mut q, entity),
        }
        for (i, c) in columns.iter().enumerate() {
            let value = match facts.as_ref().and_then(|f| f.value(i)) {
                Some(read) => read,
                None => self.b.enrichment(&c.source, entity, "t")?.0,
            };
            q.expr_as(value, Alias::new(&c.alias));
        }
        // Every value read from the facts as the output's columns would hold it: a view of
        // the input and the facts (0.19–0.25 s of copying saved at a million profiles), as
        // many rows as the input.
        if facts.as_ref().is_some_and(super::facts::Facts::all) {
            self.view_or_copy(&a.id, "out", &flow, q, Some((w.to_owned(), Vec::new())), out)?;
            return Ok(());
        }
        let t = self.table(&a.id, "out", &flow, out);
        out.push(self.fill(&t, &flow, q)?);
        Ok(())
    }

    /// A Split: its subsets (each a filter, a limit and an order), and the complement.
    pub(super) fn split(&mut self, scope: &Scope<'_, 'a>, _out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, input_flow, input_table, dim, flow_for, .. } = *scope;
        let ActivityKind::Split { subsets, complement, allow_overlap, .. } = &a.kind else { return Ok(()) };
        let (Some(entity), Some(w)) = (dim, input_table.as_deref()) else { return Ok(()) };
        // One pass over the dimension: which subset filters each row matches, as
        // columns m_1 … m_n of a match table. It is a step of its own, keyed by the
        // filters only; each subset, its ranking for a limit and the complement are
        // steps too, so changing one subset's limit recomputes just that subset
        // and the complement.
        let matches = self.split_matches(a, w, entity, input_flow, subsets)?;
        let m = |i: usize| format!("m_{}", i + 1);
        let dialect = format!("{:?}", self.options.dialect);
        // (table, has a limit) of the subsets so far.
        let mut done: Vec<(String, bool)> = Vec::new();
        for (i, s) in subsets.iter().enumerate() {
            let name = format!("subset_{}", i + 1);
            let flow = flow_for(&name);
            // A row is eligible when it matches the filter and (without overlap) no
            // earlier subset took it: an earlier subset without a limit took every
            // row it matches; one with a limit, the rows in its table.
            let mut eligible = vec![col("w", &m(i)).eq(1)];
            let mut depends = Vec::new();
            if !allow_overlap {
                for (j, (table, has_limit)) in done.iter().enumerate() {
                    if *has_limit {
                        eligible.push(Expr::not_exists(key_in(table, "x", "w")));
                        depends.push(table.clone());
                    } else {
                        eligible.push(col("w", &m(j)).eq(0));
                    }
                }
            }
            // The ranking of a limited subset whose eligible rows depend on the
            // filters alone is computed once, apart from the limit.
            let ranked = match &s.limit {
                Some(_) if depends.is_empty() => {
                    Some(self.split_ranking(a, &matches, i, s, entity, eligible.clone(), *allow_overlap)?)
                }
                _ => None,
            };
            let key = hash_key(&[
                "split-subset".to_owned(),
                matches.clone(),
                i.to_string(),
                allow_overlap.to_string(),
                serde_json::to_string(s).unwrap_or_default(),
                depends.join(","),
                ranked.clone().unwrap_or_default(),
                dialect.clone(),
            ]);
            let mut slice = None;
            let t = self.sub_step(a, key, |c, statements| {
                let t = c.table(&a.id, &name, &flow, statements);
                let mut q = Query::select();
                q.expr_as(col("w", "key"), Alias::new("key")).expr_as(Expr::val(s.label.clone()), Alias::new("seg"));
                for c in &flow.columns {
                    q.expr_as(col("w", &c.alias), Alias::new(&c.alias));
                }
                let select = match (&s.limit, &ranked) {
                    (None, _) => {
                        q.from_as(Alias::new(&matches), Alias::new("w"));
                        for e in &eligible {
                            q.and_where(e.clone());
                        }
                        q
                    }
                    (Some(limit), Some(rank)) => {
                        let ranks = ranked_slice(&t, &matches, rank, i, *allow_overlap, s, &flow, *limit);
                        let q = ranks.rows(match c.options.dialect {
                            Dialect::Sqlite => within_ranked_limit("x", rank, *limit),
                            Dialect::Postgres => within_limit("x", *limit),
                        });
                        if c.options.dialect == Dialect::Sqlite {
                            slice = Some(ranks);
                        }
                        q
                    }
                    (Some(limit), None) => {
                        q.from_as(Alias::new(&matches), Alias::new("w"));
                        for e in &eligible {
                            q.and_where(e.clone());
                        }
                        let order = pick_order(&mut q, &s.pick, entity, c.b);
                        limited(q, &flow, order, *limit)
                    }
                };
                statements.push(c.fill(&t, &flow, select)?);
                Ok(t)
            })?;
            if let Some(step) = self.pre_steps.last_mut() {
                step.slice = slice;
            }
            done.push((t, s.limit.is_some()));
        }
        let mut outputs: Vec<String> = done.iter().map(|(t, _)| t.clone()).collect();
        if *complement {
            outputs.push(self.split_complement(a, &matches, &done, *allow_overlap, flow_for("complement"))?);
        }
        if !allow_overlap {
            self.disjoint.push(outputs);
        }
        Ok(())
    }

    /// The complement of a Split: the rows of its match table that no subset took (`done`:
    /// each subset's table, and whether it has a limit), as a step of its own.
    fn split_complement(
        &mut self,
        a: &Activity,
        matches: &str,
        done: &[(String, bool)],
        allow_overlap: bool,
        flow: Flow,
    ) -> Result<String, RuleError> {
        let key = hash_key(&[
            "split-complement".to_owned(),
            matches.to_owned(),
            done.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(","),
            format!("{:?}", self.options.dialect),
        ]);
        self.sub_step(a, key, |c, statements| {
            let mut q = carry("w", matches, &flow);
            for (j, (table, has_limit)) in done.iter().enumerate() {
                q.and_where(if *has_limit {
                    Expr::not_exists(key_in(table, "x", "w"))
                } else {
                    col("w", &format!("m_{}", j + 1)).eq(0)
                });
            }
            // A view of the match table: the complement is often only counted (the demo's goes
            // to a Save audience), and copying its rows costs more than counting them (221k rows
            // at a million profiles: 0.17 s copied). Without overlap, the subsets share no row,
            // so it is counted from theirs, without reading a row.
            let counted = (!allow_overlap).then(|| (matches.to_owned(), done.iter().map(|(t, _)| t.clone()).collect()));
            c.view_or_copy(&a.id, "complement", &flow, q, counted, statements)
        })
    }

    /// A Deduplication: one row (or `keep`) per value of its columns, and the duplicates removed.
    pub(super) fn deduplication(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, input_table, dim, flow_for, .. } = *scope;
        let ActivityKind::Deduplication { columns, keep, method, output_removed, .. } = &a.kind else { return Ok(()) };
        let (Some(entity), Some(w)) = (dim, input_table.as_deref()) else { return Ok(()) };
        let flow = flow_for("out");
        if *keep >= 1 && self.options.is_distinct(&entity.name, columns) && flow.columns == scope.input_flow.columns {
            // No two rows share these values (a fact of the data at this version; the rows of
            // a work table are distinct keys): every row is kept, none is removed.
            self.alias_output(&a.id, "out", Some(w));
            if *output_removed {
                self.table(&a.id, "removed", &flow_for("removed"), out);
            }
            return Ok(());
        }
        let t = self.table(&a.id, "out", &flow, out);
        // The window runs over the keys and the identifying columns only; the rows
        // it keeps are then copied in key order (carrying the enrichment columns
        // through the sort and inserting in email order took twice as long).
        let mut inner = Query::select();
        inner.expr_as(col("w", "key"), Alias::new("key")).from_as(Alias::new(w), Alias::new("w"));
        join_dimension(&mut inner, entity);
        let mut window = WindowStatement::new();
        let mut no_value: Option<Expr> = None;
        for c in columns {
            window.add_partition_by(col("t", c));
            let missing = empty(entity, "t", c);
            no_value = Some(match no_value {
                None => missing,
                Some(acc) => acc.or(missing),
            });
        }
        match method {
            DedupMethod::KeepBy { column, largest } => {
                let ty = entity.column(column).map_or(ColumnType::Text, |c| c.column_type);
                window.order_by_expr(col("t", column).is_null(), Order::Asc);
                window.order_by_expr(
                    self.b.sort_value(entity, "t", column, ty),
                    if *largest { Order::Desc } else { Order::Asc },
                );
            }
            DedupMethod::FirstNonEmpty { column } => {
                window.order_by_expr(empty(entity, "t", column), Order::Asc);
            }
            DedupMethod::Random { seed } => {
                window.order_by_expr(mix_expr(col("w", "key"), *seed, self.options.dialect), Order::Asc);
            }
        }
        window.order_by_expr(col("w", "key"), Order::Asc);
        inner.expr_window_as(Func::cust(Alias::new("ROW_NUMBER")), window, Alias::new("rn"));
        let no_value = no_value.unwrap_or_else(|| Expr::cust("1 = 0"));
        inner.expr_as(Expr::case(no_value, 1).finally(0), Alias::new("nokey"));
        let mut kept = Query::select();
        kept.expr(col("q", "key"))
            .from_subquery(inner, Alias::new("q"))
            .and_where(col("q", "rn").lte(i64::from(*keep)).or(col("q", "nokey").eq(1)));
        let mut q = carry("w", w, &flow);
        q.and_where(col("w", "key").in_subquery(kept));
        out.push(self.fill(&t, &flow, q)?);
        if *output_removed {
            let rflow = flow_for("removed");
            let r = self.table(&a.id, "removed", &rflow, out);
            let mut q = carry("w", w, &rflow);
            q.and_where(Expr::not_exists(key_in(&t, "x", "w")));
            out.push(self.fill(&r, &rflow, q)?);
        }
        Ok(())
    }

    /// A Change dimension: the population moved to a linked entity.
    pub(super) fn change_dimension(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, input_table, dim, flow_for, .. } = *scope;
        let ActivityKind::ChangeDimension { to, .. } = &a.kind else { return Ok(()) };
        let (Some(entity), Some(w)) = (dim, input_table.as_deref()) else { return Ok(()) };
        let flow = flow_for("out");
        let t = self.table(&a.id, "out", &flow, out);
        let q = match self.b.relation(entity, to)? {
            Relation::Children { other, fk } => {
                let mut q = Query::select();
                q.expr(col("c", &other.primary_key)).expr(col("w", "seg"));
                for c in &flow.columns {
                    q.expr(col("w", &c.alias));
                }
                q.from_as(Alias::new(w), Alias::new("w")).join_as(
                    JoinType::InnerJoin,
                    Alias::new(&other.name),
                    Alias::new("c"),
                    col("c", fk).equals((Alias::new("w"), Alias::new("key"))),
                );
                q
            }
            Relation::Parent { other, fk } => parents(w, entity, fk, other),
        };
        out.push(self.fill(&t, &flow, q)?);
        Ok(())
    }

    /// A Control group: a share of the population kept out (seeded, so repeatable).
    pub(super) fn control_group(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, input_flow, input_table, flow_for, .. } = *scope;
        let ActivityKind::ControlGroup { size, seed, .. } = &a.kind else { return Ok(()) };
        let Some(w) = input_table.as_deref() else { return Ok(()) };
        let control_flow = flow_for("control");
        let control = self.table(&a.id, "control", &control_flow, out);
        let q = carry("w", w, &control_flow);
        let order = vec![(mix_expr(col("w", "key"), *seed, self.options.dialect), Order::Asc)];
        out.push(self.fill(&control, &control_flow, limited(q, &control_flow, order, *size))?);
        let dimension = input_flow.dimension.clone().unwrap_or_default();
        self.control_groups.push(CompiledControl {
            activity: a.id.clone(),
            is_profile: profile_entity(self.b.model) == Some(dimension.as_str()),
            dimension,
            table: control.clone(),
        });
        let flow = flow_for("out");
        let t = self.table(&a.id, "out", &flow, out);
        let mut q = carry("w", w, &flow);
        q.and_where(Expr::not_exists(key_in(&control, "x", "w")));
        out.push(self.fill(&t, &flow, q)?);
        Ok(())
    }
}
