//! A module that asks for something the slotkv:script world does not give
//! (a clock), for slotkv's tests: FUNCTION LOAD must refuse it, naming the
//! import.

wit_bindgen::generate!({
    inline: r#"
        package other:clock;
        world clock-module {
            import now: func() -> u64;
            export describe: func() -> tuple<string, list<string>>;
        }
    "#,
});

struct Clock;

impl Guest for Clock {
    fn describe() -> (String, Vec<String>) {
        (format!("clock_{}", now()), Vec::new())
    }
}

export!(Clock);
