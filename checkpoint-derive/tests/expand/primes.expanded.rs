use checkpoint_core::checkpointed;
fn primes(n: u64, delay_ms: u64) -> Vec<u64> {
    mod __checkpoint_schema {
        #[derive(
            ::checkpoint_core::__private::serde::Serialize,
            ::checkpoint_core::__private::serde::Deserialize
        )]
        #[serde(crate = "::checkpoint_core::__private::serde")]
        #[serde(
            bound(
                serialize = "Found: ::checkpoint_core::__private::SavedField, Candidate: ::checkpoint_core::__private::SavedField",
                deserialize = "Found: ::checkpoint_core::__private::StateValue, Candidate: ::checkpoint_core::__private::StateValue"
            )
        )]
        pub struct PrimesState<Found, Candidate> {
            pub found: ::core::option::Option<Found>,
            pub candidate: ::core::option::Option<Candidate>,
        }
        impl<Found, Candidate> ::checkpoint_core::__private::StateSchema
        for PrimesState<Found, Candidate> {
            fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                schema.field::<Found>("found");
                schema.field::<Candidate>("candidate");
            }
        }
    }
    static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
        crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
            ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
            ::core::option::Option::None => "",
        },
        module_path: ::core::module_path!(),
        function: "primes",
        name: ::core::option::Option::None,
        code_fingerprint: 8634984114820718324u64,
        loop_shape: "0()",
        loop_titles: &["while (found.len() as u64) < n"],
        loop_parents: &[4294967295u32],
        options: ::checkpoint_core::__private::FunctionOptions {
            every_ms: ::core::option::Option::Some(
                ::checkpoint_core::__private::duration_ms("250ms"),
            ),
            ..::checkpoint_core::__private::FunctionOptions::DEFAULT
        },
    };
    let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
        __checkpoint_schema::PrimesState<_, _>,
    >::start(&__CHECKPOINT_FUNCTION, &(::checkpoint_core::__private::key(&n),));
    let __checkpoint_run = &__checkpoint_run_owned;
    let mut __checkpoint_restored = match __checkpoint_run.take_state() {
        ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
        ::core::option::Option::None => {
            __checkpoint_schema::PrimesState {
                found: ::core::option::Option::None,
                candidate: ::core::option::Option::None,
            }
        }
    };
    let __checkpoint_result = ::checkpoint_core::__private::body(move || -> Vec<u64> {
        let mut __checkpoint_restored_0 = __checkpoint_restored.found.take();
        let mut __checkpoint_restored_1 = __checkpoint_restored.candidate.take();
        #[allow(unused_variables)]
        let __checkpoint_watch = __checkpoint_run.watch();
        {
            let mut found: Vec<u64> = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_0.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => vec![2],
                },
            );
            let mut candidate = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_1.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => 2,
                },
            );
            {
                let mut __checkpoint_loop_0 = __checkpoint_run.enter(0u32, 0usize);
                if !__checkpoint_loop_0.finished_phase() {
                    while (found.len() as u64) < n {
                        {
                            candidate += 1;
                            if found
                                .iter()
                                .take_while(|&&p| p * p <= candidate)
                                .all(|&p| candidate % p != 0)
                            {
                                found.push(candidate);
                                std::thread::sleep(
                                    std::time::Duration::from_millis(delay_ms),
                                );
                            }
                        }
                        #[allow(unreachable_code)]
                        if __checkpoint_run.iteration_done(&mut __checkpoint_loop_0) {
                            let mut __checkpoint_slot_0 = ::checkpoint_core::__private::SaveSlot::new();
                            let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&found);
                            let mut __checkpoint_slot_1 = ::checkpoint_core::__private::SaveSlot::new();
                            let __checkpoint_copy_1 = __checkpoint_slot_1
                                .copy(&candidate);
                            __checkpoint_run
                                .save(
                                    &[__checkpoint_loop_0.position()],
                                    &__checkpoint_schema::PrimesState {
                                        found: ::core::option::Option::Some(
                                            __checkpoint_copy_0.get(),
                                        ),
                                        candidate: ::core::option::Option::Some(
                                            __checkpoint_copy_1.get(),
                                        ),
                                    },
                                );
                        }
                    }
                }
            }
            found
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
