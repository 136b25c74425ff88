use checkpoint_core::checkpointed;
fn factorial(n: u64) -> u128 {
    mod __checkpoint_schema {
        #[derive(
            ::checkpoint_core::__private::serde::Serialize,
            ::checkpoint_core::__private::serde::Deserialize
        )]
        #[serde(crate = "::checkpoint_core::__private::serde")]
        #[serde(
            bound(
                serialize = "Prod: ::checkpoint_core::__private::SavedField",
                deserialize = "Prod: ::checkpoint_core::__private::StateValue"
            )
        )]
        pub struct FactorialState<Prod> {
            pub prod: ::core::option::Option<Prod>,
        }
        impl<Prod> ::checkpoint_core::__private::StateSchema for FactorialState<Prod> {
            fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                schema.field::<Prod>("prod");
            }
        }
    }
    static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
        crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
            ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
            ::core::option::Option::None => "",
        },
        module_path: ::core::module_path!(),
        function: "factorial",
        name: ::core::option::Option::None,
        code_fingerprint: 13679254008836713926u64,
        loop_shape: "0()",
        loop_titles: &["for i in 1..=n as u128"],
        loop_parents: &[4294967295u32],
        options: ::checkpoint_core::__private::FunctionOptions {
            ..::checkpoint_core::__private::FunctionOptions::DEFAULT
        },
    };
    let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
        __checkpoint_schema::FactorialState<_>,
    >::start(&__CHECKPOINT_FUNCTION, &(::checkpoint_core::__private::key(&n),));
    let __checkpoint_run = &__checkpoint_run_owned;
    let mut __checkpoint_restored = match __checkpoint_run.take_state() {
        ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
        ::core::option::Option::None => {
            __checkpoint_schema::FactorialState {
                prod: ::core::option::Option::None,
            }
        }
    };
    let __checkpoint_result = ::checkpoint_core::__private::body(move || -> u128 {
        let mut __checkpoint_restored_0 = __checkpoint_restored.prod.take();
        #[allow(unused_variables)]
        let __checkpoint_watch = __checkpoint_run.watch();
        {
            let mut prod: u128 = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_0.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => 1,
                },
            );
            {
                let mut __checkpoint_loop_0 = __checkpoint_run.enter(0u32, 0usize);
                if !__checkpoint_loop_0.finished_phase() {
                    let mut __checkpoint_iter = ::core::iter::IntoIterator::into_iter(
                        1..=n as u128,
                    );
                    __checkpoint_loop_0.fast_forward(&mut __checkpoint_iter);
                    #[allow(unreachable_code)]
                    let __checkpoint_panicked = loop {
                        #[allow(unused_imports)]
                        use ::checkpoint_core::__private::{
                            Chunk as _, IterChunks as _, RangeChunks as _,
                        };
                        let (__checkpoint_slow, __checkpoint_exhausted) = loop {
                            let mut __checkpoint_chunk = (&mut &mut ::checkpoint_core::__private::Chunker(
                                ::core::option::Option::Some(&mut __checkpoint_iter),
                            ))
                                .chunk(__checkpoint_run.budget());
                            for i in &mut __checkpoint_chunk {
                                {
                                    prod *= i;
                                }
                            }
                            let __checkpoint_slow = __checkpoint_run
                                .chunk_done(
                                    &mut __checkpoint_loop_0,
                                    __checkpoint_watch,
                                    __checkpoint_chunk.taken(),
                                );
                            let __checkpoint_exhausted = __checkpoint_chunk.exhausted();
                            if __checkpoint_slow | __checkpoint_exhausted {
                                break (__checkpoint_slow, __checkpoint_exhausted);
                            }
                        };
                        let mut __checkpoint_slot_0 = ::checkpoint_core::__private::SaveSlot::new();
                        let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&prod);
                        let __checkpoint_at = [__checkpoint_loop_0.position()];
                        let __checkpoint_panicked = __checkpoint_run
                            .after_chunks(
                                &mut __checkpoint_loop_0,
                                __checkpoint_slow,
                                &__checkpoint_at,
                                &__checkpoint_schema::FactorialState {
                                    prod: ::core::option::Option::Some(
                                        __checkpoint_copy_0.get(),
                                    ),
                                },
                            );
                        if __checkpoint_exhausted | __checkpoint_panicked {
                            break __checkpoint_panicked;
                        }
                    };
                    #[allow(unreachable_code)]
                    if __checkpoint_panicked {
                        __checkpoint_run.rethrow();
                    }
                }
            }
            prod
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
