//! A pass over piccolo's parsed chunk before it is compiled. Every `a .. b`
//! becomes a call of our `concat` function, and every method call `o:m(...)`
//! a call of our `method` function (piccolo gives strings no metatable, so
//! `s:upper()` would fail; ours sends strings to the `string` table and
//! everything else to `o.m` as Lua does). piccolo's own concatenation
//! formats numbers as Lua 5.4 does and allocates without asking anyone, so a
//! doubling loop (`s = s .. s`) could take gigabytes between two budget
//! checks; ours prints numbers as Lua 5.1 does and checks the size against
//! the memory limit before it allocates.
//!
//! The parser keeps each expression as a head and a left-folded tail of
//! `(operator, operand)` pairs, precedence already applied; so the rewrite
//! folds the tail itself and wraps the value so far in a call whenever the
//! operator is `..`, leaving every other operator where it was.

use piccolo::compiler::parser::{
    AssignmentTarget, BinaryOperator, Block, CallSuffix, Chunk, ConstructorField, Expression, FieldSuffix,
    ForStatement, FunctionDefinition, HeadExpression, PrimaryExpression, RecordKey, SimpleExpression, Statement,
    SuffixPart, SuffixedExpression,
};

/// The global the rewritten concatenations call.
pub const CONCAT: &str = "__slotkv_concat";
/// The global the rewritten method calls call: `method(o, "m", args...)`.
pub const METHOD: &str = "__slotkv_method";

/// The global `return f(...)` is rewritten through: it returns its arguments.
pub const PASS: &str = "__slotkv_pass";

/// The interned names the rewritten code calls.
pub struct Names<S> {
    /// [`CONCAT`].
    pub concat: S,
    /// [`METHOD`].
    pub method: S,
    /// [`PASS`].
    pub pass: S,
}

/// Rewrites every concatenation and method call in `chunk`.
pub fn chunk<S: Clone>(chunk: &mut Chunk<S>, names: &Names<S>) {
    block(&mut chunk.block, names);
}

fn block<S: Clone>(b: &mut Block<S>, n: &Names<S>) {
    for s in &mut b.statements {
        statement(&mut s.inner, n);
    }
    if let Some(r) = &mut b.return_statement {
        r.inner.returns.iter_mut().for_each(|e| expr(e, n));
        // `return f(x)` would be a tail call, and a tail-called native function
        // has no Lua caller to name in its error messages (`user_script:1:`).
        // `return pass(f(x))` keeps every result and the caller's position.
        if let [only] = r.inner.returns.as_mut_slice() {
            if is_call(only) {
                let call = std::mem::replace(only, nil());
                let pass = SuffixedExpression {
                    primary: PrimaryExpression::Name(n.pass.clone()),
                    suffixes: vec![SuffixPart::Call(CallSuffix::Function(vec![call]))],
                };
                *only = Expression {
                    head: Box::new(HeadExpression::Simple(SimpleExpression::Suffixed(pass))),
                    tail: Vec::new(),
                };
            }
        }
    }
}

fn nil<S>() -> Expression<S> {
    Expression { head: Box::new(HeadExpression::Simple(SimpleExpression::Nil)), tail: Vec::new() }
}

/// True for an expression that is just a function call.
fn is_call<S>(e: &Expression<S>) -> bool {
    e.tail.is_empty()
        && matches!(&*e.head, HeadExpression::Simple(SimpleExpression::Suffixed(s))
            if matches!(s.suffixes.last(), Some(SuffixPart::Call(_))))
}

fn statement<S: Clone>(s: &mut Statement<S>, n: &Names<S>) {
    match s {
        Statement::If(i) => {
            expr(&mut i.if_part.0, n);
            block(&mut i.if_part.1, n);
            for (c, b) in &mut i.else_if_parts {
                expr(c, n);
                block(b, n);
            }
            if let Some(b) = &mut i.else_part {
                block(b, n);
            }
        }
        Statement::While(w) => {
            expr(&mut w.condition, n);
            block(&mut w.block, n);
        }
        Statement::Do(b) => block(b, n),
        Statement::For(ForStatement::Numeric { initial, limit, step, body, .. }) => {
            expr(initial, n);
            expr(limit, n);
            if let Some(s) = step {
                expr(s, n);
            }
            block(body, n);
        }
        Statement::For(ForStatement::Generic { arguments, body, .. }) => {
            arguments.iter_mut().for_each(|e| expr(e, n));
            block(body, n);
        }
        Statement::Repeat(r) => {
            block(&mut r.body, n);
            expr(&mut r.until, n);
        }
        Statement::Function(f) => function(&mut f.definition, n),
        Statement::LocalFunction(f) => function(&mut f.definition, n),
        Statement::LocalStatement(l) => l.values.iter_mut().for_each(|e| expr(e, n)),
        Statement::FunctionCall(c) => {
            suffixed(&mut c.head, n);
            call(&mut c.call, n);
            if let CallSuffix::Method(name, args) = &mut c.call {
                let (name, args) = (name.clone(), std::mem::take(args));
                let head = std::mem::replace(
                    &mut c.head,
                    SuffixedExpression { primary: PrimaryExpression::Name(n.method.clone()), suffixes: Vec::new() },
                );
                c.call = CallSuffix::Function(method_args(head, name, args));
            }
        }
        Statement::Assignment(a) => {
            for t in &mut a.targets {
                if let AssignmentTarget::Field(s, f) = t {
                    suffixed(s, n);
                    field(f, n);
                }
            }
            a.values.iter_mut().for_each(|e| expr(e, n));
        }
        Statement::Label(_) | Statement::Break | Statement::Goto(_) => {}
    }
}

fn function<S: Clone>(f: &mut FunctionDefinition<S>, n: &Names<S>) {
    block(&mut f.body, n);
}

fn call<S: Clone>(c: &mut CallSuffix<S>, n: &Names<S>) {
    match c {
        CallSuffix::Method(_, args) | CallSuffix::Function(args) => args.iter_mut().for_each(|e| expr(e, n)),
    }
}

fn field<S: Clone>(f: &mut FieldSuffix<S>, n: &Names<S>) {
    if let FieldSuffix::Indexed(e) = f {
        expr(e, n);
    }
}

fn suffixed<S: Clone>(s: &mut SuffixedExpression<S>, n: &Names<S>) {
    if let PrimaryExpression::GroupedExpression(e) = &mut s.primary {
        expr(e, n);
    }
    for part in &mut s.suffixes {
        match part {
            SuffixPart::Field(f) => field(f, n),
            SuffixPart::Call(c) => call(c, n),
        }
    }
    // `prefix:m(args) rest` becomes `method(prefix, "m", args) rest`.
    while let Some(k) = s.suffixes.iter().position(|p| matches!(p, SuffixPart::Call(CallSuffix::Method(..)))) {
        let mut rest = s.suffixes.split_off(k);
        let SuffixPart::Call(CallSuffix::Method(name, args)) = rest.remove(0) else { break };
        let prefix = std::mem::replace(
            s,
            SuffixedExpression { primary: PrimaryExpression::Name(n.method.clone()), suffixes: Vec::new() },
        );
        s.suffixes.push(SuffixPart::Call(CallSuffix::Function(method_args(prefix, name, args))));
        s.suffixes.extend(rest);
    }
}

/// `(object, "name", args...)` for a rewritten method call.
fn method_args<S>(object: SuffixedExpression<S>, name: S, args: Vec<Expression<S>>) -> Vec<Expression<S>> {
    let single = |e: SimpleExpression<S>| Expression { head: Box::new(HeadExpression::Simple(e)), tail: Vec::new() };
    let mut all = Vec::with_capacity(args.len() + 2);
    all.push(single(SimpleExpression::Suffixed(object)));
    all.push(single(SimpleExpression::String(name)));
    all.extend(args);
    all
}

fn simple<S: Clone>(s: &mut SimpleExpression<S>, n: &Names<S>) {
    match s {
        SimpleExpression::TableConstructor(t) => {
            for f in &mut t.fields {
                match f {
                    ConstructorField::Array(e) => expr(e, n),
                    ConstructorField::Record(k, e) => {
                        if let RecordKey::Indexed(k) = k {
                            expr(k, n);
                        }
                        expr(e, n);
                    }
                }
            }
        }
        SimpleExpression::Function(f) => function(f, n),
        SimpleExpression::Suffixed(s) => suffixed(s, n),
        _ => {}
    }
}

fn expr<S: Clone>(e: &mut Expression<S>, n: &Names<S>) {
    match &mut *e.head {
        HeadExpression::Simple(s) => simple(s, n),
        HeadExpression::UnaryOperator(_, inner) => expr(inner, n),
    }
    for (_, rhs) in &mut e.tail {
        expr(rhs, n);
    }
    if !e.tail.iter().any(|(op, _)| matches!(op, BinaryOperator::Concat)) {
        return;
    }
    let tail = std::mem::take(&mut e.tail);
    let placeholder = HeadExpression::Simple(SimpleExpression::Nil);
    let head = std::mem::replace(&mut *e.head, placeholder);
    let mut acc = Expression { head: Box::new(head), tail: Vec::new() };
    for (op, rhs) in tail {
        if matches!(op, BinaryOperator::Concat) {
            let callee = SuffixedExpression {
                primary: PrimaryExpression::Name(n.concat.clone()),
                suffixes: vec![SuffixPart::Call(CallSuffix::Function(vec![acc, rhs]))],
            };
            let call = Expression {
                head: Box::new(HeadExpression::Simple(SimpleExpression::Suffixed(callee))),
                tail: Vec::new(),
            };
            // Parenthesised, so `return a .. b` is not a tail call: errors keep
            // the position of the line that concatenates.
            let grouped =
                SuffixedExpression { primary: PrimaryExpression::GroupedExpression(call), suffixes: Vec::new() };
            acc = Expression {
                head: Box::new(HeadExpression::Simple(SimpleExpression::Suffixed(grouped))),
                tail: Vec::new(),
            };
        } else {
            acc.tail.push((op, rhs));
        }
    }
    *e = acc;
}
