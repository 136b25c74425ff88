use checkpoint_core::checkpointed;
fn collatz_steps(start: u64) -> u32 {
    mod __checkpoint_schema {
        #[derive(
            ::checkpoint_core::__private::serde::Serialize,
            ::checkpoint_core::__private::serde::Deserialize
        )]
        #[serde(crate = "::checkpoint_core::__private::serde")]
        #[serde(
            bound(
                serialize = "Value: ::checkpoint_core::__private::SavedField, Steps: ::checkpoint_core::__private::SavedField",
                deserialize = "Value: ::checkpoint_core::__private::StateValue, Steps: ::checkpoint_core::__private::StateValue"
            )
        )]
        pub struct CollatzStepsState<Value, Steps> {
            pub value: ::core::option::Option<Value>,
            pub steps: ::core::option::Option<Steps>,
        }
        impl<Value, Steps> ::checkpoint_core::__private::StateSchema
        for CollatzStepsState<Value, Steps> {
            fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                schema.field::<Value>("value");
                schema.field::<Steps>("steps");
            }
        }
    }
    static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
        crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
            ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
            ::core::option::Option::None => "",
        },
        module_path: ::core::module_path!(),
        function: "collatz_steps",
        name: ::core::option::Option::None,
        code_fingerprint: 9737493250806667057u64,
        loop_shape: "0()",
        loop_titles: &["loop"],
        loop_parents: &[4294967295u32],
        options: ::checkpoint_core::__private::FunctionOptions {
            on_code_change: ::checkpoint_core::OnCodeChange::Restart,
            ..::checkpoint_core::__private::FunctionOptions::DEFAULT
        },
    };
    let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
        __checkpoint_schema::CollatzStepsState<_, _>,
    >::start(&__CHECKPOINT_FUNCTION, &(::checkpoint_core::__private::key(&start),));
    let __checkpoint_run = &__checkpoint_run_owned;
    let mut __checkpoint_restored = match __checkpoint_run.take_state() {
        ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
        ::core::option::Option::None => {
            __checkpoint_schema::CollatzStepsState {
                value: ::core::option::Option::None,
                steps: ::core::option::Option::None,
            }
        }
    };
    let __checkpoint_result = ::checkpoint_core::__private::body(move || -> u32 {
        let mut __checkpoint_restored_0 = __checkpoint_restored.value.take();
        let mut __checkpoint_restored_1 = __checkpoint_restored.steps.take();
        #[allow(unused_variables)]
        let __checkpoint_watch = __checkpoint_run.watch();
        {
            let mut value = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_0.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => start,
                },
            );
            let mut steps = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_1.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => 0,
                },
            );
            {
                let mut __checkpoint_loop_0 = __checkpoint_run.enter(0u32, 0usize);
                if !__checkpoint_loop_0.finished_phase() {
                    loop {
                        {
                            if value == 1 {
                                break;
                            }
                            value = if value % 2 == 0 {
                                value / 2
                            } else {
                                3 * value + 1
                            };
                            steps += 1;
                        }
                        #[allow(unreachable_code)]
                        if __checkpoint_run.iteration_done(&mut __checkpoint_loop_0) {
                            let mut __checkpoint_slot_0 = ::checkpoint_core::__private::SaveSlot::new();
                            let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&value);
                            let mut __checkpoint_slot_1 = ::checkpoint_core::__private::SaveSlot::new();
                            let __checkpoint_copy_1 = __checkpoint_slot_1.copy(&steps);
                            __checkpoint_run
                                .save(
                                    &[__checkpoint_loop_0.position()],
                                    &__checkpoint_schema::CollatzStepsState {
                                        value: ::core::option::Option::Some(
                                            __checkpoint_copy_0.get(),
                                        ),
                                        steps: ::core::option::Option::Some(
                                            __checkpoint_copy_1.get(),
                                        ),
                                    },
                                );
                        }
                    }
                }
            }
            steps
        }
    });
    let __checkpoint_completed = {
        #[allow(unused_imports)]
        use ::checkpoint_core::__private::{FallibleOutcome as _, PlainOutcome as _};
        (&::checkpoint_core::__private::Outcome(&__checkpoint_result)).completed()
    };
    __checkpoint_run_owned.finish(__checkpoint_completed);
    __checkpoint_result
}
