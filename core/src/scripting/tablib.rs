//! The `table` library as Lua 5.1 has it: `insert remove concat sort getn maxn`
//! (piccolo's `pack`/`unpack` stay). `sort` with a Lua comparator is a merge
//! sort that calls the comparator between steps, so it runs under the budget
//! like any Lua code.

use super::base::{arg_table, bad_arg, opt_int, raise, set, to_bytes, type_name};
use super::strlib::check_alloc;
use super::Shared;
use gc_arena::Collect;
use piccolo::{
    BoxSequence, Callback, CallbackReturn, Context, Error, Execution, Sequence, SequencePoll, Stack, Table, Value,
};

/// Installs `table`.
pub(crate) fn install<'gc>(ctx: Context<'gc>, bridge: &Shared) {
    let t = super::base::library(ctx, "table");
    set(
        ctx,
        t,
        "insert",
        Callback::from_fn(&ctx, |ctx, mut exec, mut stack| {
            let t = arg_table(ctx, &exec, &stack, 0, "insert")?;
            let n = t.length();
            match stack.len() {
                2 => {
                    let _ = t.set(ctx, n + 1, stack.get(1));
                }
                3 => {
                    let pos = super::base::arg_int(ctx, &exec, &stack, 1, "insert")?;
                    exec.fuel().consume((n - pos).clamp(0, i32::MAX as i64) as i32);
                    let mut i = n + 1;
                    while i > pos {
                        let _ = t.set(ctx, i, t.get(ctx, i - 1));
                        i -= 1;
                    }
                    let _ = t.set(ctx, pos, stack.get(2));
                }
                _ => return Err(raise(ctx, &exec, "wrong number of arguments to 'insert'")),
            }
            stack.clear();
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        t,
        "remove",
        Callback::from_fn(&ctx, |ctx, mut exec, mut stack| {
            let t = arg_table(ctx, &exec, &stack, 0, "remove")?;
            let n = t.length();
            let pos = opt_int(ctx, &exec, &stack, 1, "remove", n)?;
            stack.clear();
            if n == 0 {
                return Ok(CallbackReturn::Return);
            }
            let removed = t.get(ctx, pos);
            exec.fuel().consume((n - pos).clamp(0, i32::MAX as i64) as i32);
            let mut i = pos;
            while i < n {
                let _ = t.set(ctx, i, t.get(ctx, i + 1));
                i += 1;
            }
            let _ = t.set(ctx, n, Value::Nil);
            stack.push_back(removed);
            Ok(CallbackReturn::Return)
        }),
    );
    let b = bridge.clone();
    set(
        ctx,
        t,
        "concat",
        Callback::from_fn(&ctx, move |ctx, mut exec, mut stack| {
            let t = arg_table(ctx, &exec, &stack, 0, "concat")?;
            let sep = match stack.get(1) {
                Value::Nil => Vec::new(),
                v => to_bytes(v).ok_or_else(|| {
                    bad_arg(ctx, &exec, 2, "concat", &format!("string expected, got {}", type_name(v)))
                })?,
            };
            let i = opt_int(ctx, &exec, &stack, 2, "concat", 1)?;
            let j =
                if stack.get(3).is_nil() { t.length() } else { super::base::arg_int(ctx, &exec, &stack, 3, "concat")? };
            let mut out = Vec::new();
            let mut k = i;
            while k <= j {
                let v = t.get(ctx, k);
                let s = to_bytes(v).ok_or_else(|| {
                    let what = super::base::type_name(v);
                    raise(ctx, &exec, &format!("invalid value ({what}) at index {k} in table for 'concat'"))
                })?;
                out.extend_from_slice(&s);
                if k < j {
                    out.extend_from_slice(&sep);
                }
                check_alloc(ctx, &b, out.len())?;
                exec.fuel().consume(1 + (s.len() / 64) as i32);
                k += 1;
            }
            stack.replace(ctx, ctx.intern(&out));
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        t,
        "getn",
        Callback::from_fn(&ctx, |ctx, exec, mut stack| {
            let t = arg_table(ctx, &exec, &stack, 0, "getn")?;
            stack.replace(ctx, t.length());
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        t,
        "maxn",
        Callback::from_fn(&ctx, |ctx, mut exec, mut stack| {
            let t = arg_table(ctx, &exec, &stack, 0, "maxn")?;
            let mut max = 0f64;
            for (k, _) in t.iter() {
                exec.fuel().consume(1);
                match k {
                    Value::Integer(n) if n as f64 > max => max = n as f64,
                    Value::Number(n) if n > max => max = n,
                    _ => {}
                }
            }
            stack.replace(ctx, super::base::number_value(max));
            Ok(CallbackReturn::Return)
        }),
    );
    set(
        ctx,
        t,
        "sort",
        Callback::from_fn(&ctx, |ctx, mut exec, mut stack| {
            let t = arg_table(ctx, &exec, &stack, 0, "sort")?;
            let n = t.length().max(0) as usize;
            let items: Vec<Value> = (1..=n as i64).map(|i| t.get(ctx, i)).collect();
            let cmp = stack.get(1);
            stack.clear();
            match cmp {
                Value::Nil => {
                    let mut items = items;
                    let mut err = None;
                    exec.fuel().consume((n * (usize::BITS - n.leading_zeros()) as usize).min(i32::MAX as usize) as i32);
                    items.sort_by(|a, b| match less_than(*a, *b) {
                        Ok(true) => std::cmp::Ordering::Less,
                        Ok(false) => match less_than(*b, *a) {
                            Ok(true) => std::cmp::Ordering::Greater,
                            _ => std::cmp::Ordering::Equal,
                        },
                        Err(e) => {
                            err.get_or_insert(e);
                            std::cmp::Ordering::Equal
                        }
                    });
                    if let Some(e) = err {
                        return Err(raise(ctx, &exec, &e));
                    }
                    for (i, v) in items.into_iter().enumerate() {
                        let _ = t.set(ctx, i as i64 + 1, v);
                    }
                    Ok(CallbackReturn::Return)
                }
                Value::Function(f) => {
                    let mut sort = MergeSort::new(t, items);
                    match sort.next_comparison() {
                        Some((a, b)) => {
                            stack.push_back(a);
                            stack.push_back(b);
                            Ok(CallbackReturn::Call {
                                function: f,
                                then: Some(BoxSequence::new(&ctx, SortCall { sort, f })),
                            })
                        }
                        None => {
                            sort.store(ctx);
                            Ok(CallbackReturn::Return)
                        }
                    }
                }
                v => Err(bad_arg(ctx, &exec, 2, "sort", &format!("function expected, got {}", type_name(v)))),
            }
        }),
    );
    let _ = ctx.globals().set(ctx, "table", t);
}

/// Lua's `<` on numbers and strings.
fn less_than(a: Value<'_>, b: Value<'_>) -> Result<bool, String> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Ok(x < y),
        (Value::Integer(_) | Value::Number(_), Value::Integer(_) | Value::Number(_)) => {
            Ok(a.to_number().unwrap_or(0.0) < b.to_number().unwrap_or(0.0))
        }
        (Value::String(x), Value::String(y)) => Ok(x.as_bytes() < y.as_bytes()),
        (x, y) if type_name(x) == type_name(y) => Err(format!("attempt to compare two {} values", type_name(x))),
        (x, y) => Err(format!("attempt to compare {} with {}", type_name(x), type_name(y))),
    }
}

/// A bottom-up merge sort that stops at each comparison.
#[derive(Collect)]
#[collect(no_drop)]
struct MergeSort<'gc> {
    table: Table<'gc>,
    items: Vec<Value<'gc>>,
    tmp: Vec<Value<'gc>>,
    #[collect(require_static)]
    st: [usize; 7],
}

// st: width, lo, mid, hi, i, j, k
impl<'gc> MergeSort<'gc> {
    fn new(table: Table<'gc>, items: Vec<Value<'gc>>) -> Self {
        let tmp = items.clone();
        let n = items.len();
        let mut s = MergeSort { table, items, tmp, st: [1, 0, 0, 0, 0, 0, 0] };
        s.start_run(n);
        s
    }

    fn start_run(&mut self, n: usize) {
        let [width, lo, ..] = self.st;
        let mid = (lo + width).min(n);
        let hi = (lo + 2 * width).min(n);
        self.st = [width, lo, mid, hi, lo, mid, lo];
    }

    /// The pair to compare next (`cmp(right, left)`), or `None` when sorted.
    fn next_comparison(&mut self) -> Option<(Value<'gc>, Value<'gc>)> {
        let n = self.items.len();
        loop {
            let [width, lo, mid, hi, i, j, _] = self.st;
            if width >= n {
                return None;
            }
            if i < mid && j < hi {
                return Some((self.items[j], self.items[i]));
            }
            // Copy the rest of the run, then move to the next pair of runs.
            let mut k = self.st[6];
            for x in i..mid {
                self.tmp[k] = self.items[x];
                k += 1;
            }
            for x in j..hi {
                self.tmp[k] = self.items[x];
                k += 1;
            }
            if hi >= n {
                std::mem::swap(&mut self.items, &mut self.tmp);
                self.st = [width * 2, 0, 0, 0, 0, 0, 0];
            } else {
                self.st[1] = hi;
            }
            self.start_run(n);
            let _ = lo;
        }
    }

    /// Applies the answer to the last comparison: true if right < left.
    fn answer(&mut self, right_first: bool) {
        let [.., i, j, k] = self.st;
        if right_first {
            self.tmp[k] = self.items[j];
            self.st[5] = j + 1;
        } else {
            self.tmp[k] = self.items[i];
            self.st[4] = i + 1;
        }
        self.st[6] = k + 1;
    }

    fn store(&self, ctx: Context<'gc>) {
        for (i, v) in self.items.iter().enumerate() {
            let _ = self.table.set(ctx, i as i64 + 1, *v);
        }
    }
}

#[derive(Collect)]
#[collect(no_drop)]
struct SortCall<'gc> {
    sort: MergeSort<'gc>,
    f: piccolo::Function<'gc>,
}

impl<'gc> Sequence<'gc> for SortCall<'gc> {
    fn poll(
        &mut self,
        ctx: Context<'gc>,
        _exec: Execution<'gc, '_>,
        mut stack: Stack<'gc, '_>,
    ) -> Result<SequencePoll<'gc>, Error<'gc>> {
        let answer = stack.get(0).to_bool();
        stack.clear();
        self.sort.answer(answer);
        match self.sort.next_comparison() {
            Some((a, b)) => {
                stack.push_back(a);
                stack.push_back(b);
                Ok(SequencePoll::Call { function: self.f, is_tail: false })
            }
            None => {
                self.sort.store(ctx);
                Ok(SequencePoll::Return)
            }
        }
    }
}
