//! Redis 7 functions: FUNCTION LOAD|LIST|DELETE|FLUSH|DUMP|RESTORE|STATS|KILL|HELP
//! and FCALL / FCALL_RO. Libraries live in the shared registry; a call runs
//! the function in this thread's engine exactly as EVAL runs a script (same
//! budgets, rollback and key rules). A library whose code is a WebAssembly
//! module runs in the host's module engine under the same rules.

use super::scripting::{eval_cmd, numkeys, run_module, run_script, script_kill, Running, ScriptRules};
use super::spec::{flags::*, CommandSpec, Group};
use crate::error::{CmdError, CmdResult};
use crate::exec::ExecCtx;
use crate::resp::request::Args;
use crate::scripting::functions::{library_name, valid_name, Library, LibraryEngine};
use crate::scripting::modules::is_module;
use crate::scripting::ScriptEngine;

const S: Group = Group::Scripting;

/// An FCALL-family declaration: as EVAL's, for functions.
const fn fcall_cmd(name: &'static str, read_only: bool, summary: &'static str, handler: super::Handler) -> CommandSpec {
    CommandSpec {
        complexity: "Depends on the function that is executed.",
        ..eval_cmd(name, read_only, true, summary, "7.0.0", handler)
    }
}

pub(crate) const SPECS: &[CommandSpec] = &[
    fcall_cmd("fcall", false, "Invokes a function.", fcall),
    fcall_cmd("fcall_ro", true, "Invokes a read-only function.", fcall_ro),
    CommandSpec {
        subcommands: FUNCTION_SUBS,
        ..CommandSpec::keyless(
            "function",
            -2,
            CONTAINER,
            S,
            "A container for function commands.",
            "7.0.0",
            super::server::container,
        )
    },
];

const ALL_SHARDS: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

const FUNCTION_SUBS: &[CommandSpec] = &[
    CommandSpec {
        complexity: "O(N) where N is the number of functions deleted",
        tips: ALL_SHARDS,
        ..CommandSpec::keyless(
            "delete",
            3,
            NOSCRIPT | WRITE,
            S,
            "Deletes a library and its functions.",
            "7.0.0",
            delete,
        )
    },
    CommandSpec {
        complexity: "O(N) where N is the number of functions",
        ..CommandSpec::keyless(
            "dump",
            2,
            NOSCRIPT,
            S,
            "Dumps all libraries into a serialized binary payload.",
            "7.0.0",
            dump,
        )
    },
    CommandSpec {
        complexity: "O(N) where N is the number of functions deleted",
        tips: ALL_SHARDS,
        ..CommandSpec::keyless("flush", -2, NOSCRIPT | WRITE, S, "Deletes all libraries and functions.", "7.0.0", flush)
    },
    CommandSpec::keyless(
        "help",
        2,
        LOADING | STALE,
        S,
        "Returns helpful text about the different subcommands.",
        "7.0.0",
        help,
    ),
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        ..CommandSpec::keyless(
            "kill",
            2,
            NOSCRIPT | ALLOW_BUSY,
            S,
            "Terminates a function during execution.",
            "7.0.0",
            script_kill,
        )
    },
    CommandSpec {
        complexity: "O(N) where N is the number of functions",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::keyless("list", -2, NOSCRIPT, S, "Returns information about all libraries.", "7.0.0", list)
    },
    CommandSpec {
        complexity: "O(1) (considering compilation time is redundant)",
        tips: ALL_SHARDS,
        ..CommandSpec::keyless("load", -3, NOSCRIPT | WRITE | DENYOOM, S, "Creates a library.", "7.0.0", load)
    },
    CommandSpec {
        complexity: "O(N) where N is the number of functions on the payload",
        tips: ALL_SHARDS,
        ..CommandSpec::keyless(
            "restore",
            -3,
            NOSCRIPT | WRITE | DENYOOM,
            S,
            "Restores all libraries from a payload.",
            "7.0.0",
            restore,
        )
    },
    CommandSpec {
        tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        ..CommandSpec::keyless(
            "stats",
            2,
            NOSCRIPT | ALLOW_BUSY,
            S,
            "Returns information about a function during execution.",
            "7.0.0",
            stats,
        )
    },
];

fn fcall(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    fcall_generic(ctx, args, false)
}

fn fcall_ro(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    fcall_generic(ctx, args, true)
}

fn fcall_generic(ctx: &mut ExecCtx<'_>, args: Args<'_>, ro_command: bool) -> CmdResult {
    let n = numkeys(&args).map_err(|e| match e {
        CmdError::NotInteger => CmdError::msg("ERR Bad number of keys provided"),
        e => e,
    })?;
    let name = String::from_utf8_lossy(args.get(1)).into_owned();
    let registry = ctx.host.function_registry();
    let (flags, module) = {
        let reg = registry.lock().unwrap_or_else(|p| p.into_inner());
        let (lib, f) = reg.function(&name).ok_or(CmdError::msg("ERR Function not found"))?;
        (f.flags, (lib.engine == LibraryEngine::Wasm).then(|| lib.code.clone()))
    };
    if ro_command && !flags.no_writes {
        return Err(CmdError::msg("ERR Can not execute a script with write flag using *_ro command."));
    }
    let keys: Vec<&[u8]> = (0..n).map(|i| args.get(3 + i)).collect();
    let argv: Vec<&[u8]> = (3 + n..args.len()).map(|i| args.get(i)).collect();
    let running = Running { name: &name, args: &args };
    // Functions always follow the rules of scripts with flags.
    super::scripting::check_no_cluster(ctx, flags)?;
    let rules = ScriptRules::new(flags, true, ro_command, &keys);
    if let Some(code) = module {
        return run_module(ctx, &code, &keys, &argv, rules, running);
    }
    let engine_rc = ctx.host.script_engine();
    let mut engine = engine_rc.borrow_mut();
    engine.sync_functions(&registry.lock().unwrap_or_else(|p| p.into_inner()), ctx.host.script_limits());
    let f = engine.function(&name).ok_or(CmdError::msg("ERR Function not found"))?;
    let id = format!("function:{name}");
    if engine.needs_all_shards(&id) && !ctx.data.covers_all() {
        ctx.wants_all_shards = true;
        return Ok(());
    }
    let start = |e: &mut ScriptEngine, limits| {
        e.start_function(&f, &name, &keys, &argv, limits);
        Ok(())
    };
    run_script(ctx, &mut engine, &id, rules, running, start)
}

fn load(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (replace, code) = match args.len() {
        3 => (false, args.get(2)),
        4 if args.get(2).eq_ignore_ascii_case(b"replace") => (true, args.get(3)),
        4 => {
            return Err(CmdError::owned(format!("ERR Unknown option given: {}", String::from_utf8_lossy(args.get(2)))))
        }
        _ => return Err(CmdError::WrongArity("function|load".into())),
    };
    let name = load_library(ctx, code, replace)?;
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

/// Runs a library's code (or asks a module) to find its functions and adds it
/// to the registry.
fn load_library(ctx: &mut ExecCtx<'_>, code: &[u8], replace: bool) -> Result<String, CmdError> {
    let registry = ctx.host.function_registry();
    let lib = if is_module(code) {
        let host = ctx.host.module_host().ok_or(CmdError::msg("ERR Engine 'wasm' not found"))?;
        let module = host.load(code).map_err(CmdError::owned)?;
        if !valid_name(&module.name) {
            return Err(CmdError::msg(
                "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
            ));
        }
        if let Some(bad) = module.functions.iter().find(|f| !valid_name(&f.name)) {
            return Err(CmdError::owned(format!(
                "ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long: '{}'",
                bad.name
            )));
        }
        if module.functions.is_empty() {
            return Err(CmdError::msg("ERR No functions registered"));
        }
        Library { name: module.name, engine: LibraryEngine::Wasm, code: code.into(), functions: module.functions }
    } else {
        let name = library_name(code).map_err(CmdError::owned)?;
        if !replace && registry.lock().unwrap_or_else(|p| p.into_inner()).libraries().any(|l| l.name == name) {
            return Err(CmdError::owned(format!("ERR Library '{name}' already exists")));
        }
        let engine_rc = ctx.host.script_engine();
        let registered =
            engine_rc.borrow_mut().load_library(code, ctx.host.script_limits()).map_err(CmdError::owned)?;
        let functions = registered.into_iter().map(|(meta, _)| meta).collect();
        Library { name, engine: LibraryEngine::Lua, code: code.into(), functions }
    };
    // The registry refuses a name already taken (a module's is known only now).
    let name = lib.name.clone();
    registry.lock().unwrap_or_else(|p| p.into_inner()).add(lib, replace).map_err(CmdError::owned)?;
    ctx.dirty += 1;
    Ok(name)
}

fn delete(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let name = String::from_utf8_lossy(args.get(2));
    if !ctx.host.function_registry().lock().unwrap_or_else(|p| p.into_inner()).delete(&name) {
        return Err(CmdError::msg("ERR Library not found"));
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn flush(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3
        || (args.len() == 3
            && !args.get(2).eq_ignore_ascii_case(b"sync")
            && !args.get(2).eq_ignore_ascii_case(b"async"))
    {
        return Err(CmdError::msg("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    ctx.host.function_registry().lock().unwrap_or_else(|p| p.into_inner()).flush();
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn list(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    let (mut pattern, mut with_code) = (None, false);
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
            i += 1;
        } else if a.eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            if i + 1 >= args.len() {
                return Err(CmdError::msg("ERR library name argument was not given"));
            }
            pattern = Some(args.get(i + 1));
            i += 2;
        } else {
            return Err(CmdError::owned(format!("ERR Unknown argument {}", String::from_utf8_lossy(a))));
        }
    }
    let registry = ctx.host.function_registry();
    let reg = registry.lock().unwrap_or_else(|p| p.into_inner());
    let libs: Vec<&Library> = reg
        .libraries()
        .filter(|l| pattern.is_none_or(|p| crate::glob::glob_match(p, l.name.as_bytes(), false)))
        .collect();
    let out = &mut *ctx.out;
    out.array(libs.len());
    for lib in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(lib.engine.name().as_bytes());
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d.as_bytes()),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = [
                (f.flags.no_writes, "no-writes"),
                (f.flags.allow_oom, "allow-oom"),
                (f.flags.allow_stale, "allow-stale"),
                (f.flags.no_cluster, "no-cluster"),
                (f.flags.allow_cross_slot, "allow-cross-slot-keys"),
            ]
            .into_iter()
            .filter_map(|(on, n)| on.then_some(n))
            .collect();
            out.set(names.len());
            for n in names {
                out.simple(n.as_bytes());
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

fn dump(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let registry = ctx.host.function_registry();
    let reg = registry.lock().unwrap_or_else(|p| p.into_inner());
    let payload = crate::rdb::dump_functions(reg.libraries().map(|l| &l.code[..]));
    ctx.out.bulk(&payload);
    Ok(())
}

fn restore(ctx: &mut ExecCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::msg("ERR wrong number of arguments for 'function|restore' command"));
    }
    let policy = if args.len() == 4 { args.get(3).to_ascii_lowercase() } else { b"append".to_vec() };
    if !matches!(&policy[..], b"append" | b"replace" | b"flush") {
        return Err(CmdError::msg("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."));
    }
    let codes = crate::rdb::restore_functions(args.get(2)).map_err(|e| match e {
        crate::rdb::DumpError::VersionOrChecksum => CmdError::msg("ERR DUMP payload version or checksum are wrong"),
        crate::rdb::DumpError::BadFormat => CmdError::msg("ERR given type is not a function"),
    })?;
    let registry = ctx.host.function_registry();
    // All or nothing: on any failure the libraries are as before.
    let saved: Vec<Library> = registry.lock().unwrap_or_else(|p| p.into_inner()).libraries().cloned().collect();
    if policy == b"flush" {
        registry.lock().unwrap_or_else(|p| p.into_inner()).flush();
    }
    for code in codes {
        if let Err(e) = load_library(ctx, &code, policy == b"replace") {
            // RESTORE words a name collision without quotes.
            let e = match e.text().strip_prefix("ERR Library '").and_then(|r| r.strip_suffix("' already exists")) {
                Some(name) => CmdError::owned(format!("ERR Library {name} already exists")),
                None => e,
            };
            let mut reg = registry.lock().unwrap_or_else(|p| p.into_inner());
            reg.flush();
            for lib in saved {
                let _ = reg.add(lib, true);
            }
            return Err(e);
        }
    }
    ctx.out.ok();
    Ok(())
}

fn stats(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    let running = ctx.host.script_running_now();
    let registry = ctx.host.function_registry();
    let reg = registry.lock().unwrap_or_else(|p| p.into_inner());
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    match running {
        Some((name, command, ms)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(command.len());
            for a in &command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(ms as i64);
        }
        None => out.null(),
    }
    // Redis lists its one engine; the WASM engine appears once it has libraries.
    let count = |engine: LibraryEngine| {
        let libs = reg.libraries().filter(|l| l.engine == engine);
        libs.fold((0, 0), |(l, f), lib| (l + 1, f + lib.functions.len() as i64))
    };
    let (lua, wasm) = (count(LibraryEngine::Lua), count(LibraryEngine::Wasm));
    out.bulk(b"engines");
    out.map(if wasm.0 > 0 { 2 } else { 1 });
    for (name, (libraries, functions)) in [("LUA", lua), ("WASM", wasm)] {
        if name == "WASM" && libraries == 0 {
            continue;
        }
        out.bulk(name.as_bytes());
        out.map(2);
        out.bulk(b"libraries_count");
        out.int(libraries);
        out.bulk(b"functions_count");
        out.int(functions);
    }
    Ok(())
}

fn help(ctx: &mut ExecCtx<'_>, _args: Args<'_>) -> CmdResult {
    super::server::help_reply_prints(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}
