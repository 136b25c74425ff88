use checkpoint_core::checkpointed;
/// Sums `i * j` over the even `j` below `i`, at most four per row; the
/// inner loop saves too.
fn triangle(n: u64) -> u64 {
    mod __checkpoint_schema {
        #[derive(
            ::checkpoint_core::__private::serde::Serialize,
            ::checkpoint_core::__private::serde::Deserialize
        )]
        #[serde(crate = "::checkpoint_core::__private::serde")]
        #[serde(
            bound(
                serialize = "Total: ::checkpoint_core::__private::SavedField",
                deserialize = "Total: ::checkpoint_core::__private::StateValue"
            )
        )]
        pub struct TriangleState<Total> {
            pub total: ::core::option::Option<Total>,
        }
        impl<Total> ::checkpoint_core::__private::StateSchema for TriangleState<Total> {
            fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                schema.field::<Total>("total");
            }
        }
    }
    static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
        crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
            ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
            ::core::option::Option::None => "",
        },
        module_path: ::core::module_path!(),
        function: "triangle",
        name: ::core::option::Option::None,
        code_fingerprint: 1705447735047258808u64,
        loop_shape: "0(1())",
        loop_titles: &["'rows: for i in 0..n", "for j in 0..i"],
        loop_parents: &[4294967295u32, 0u32],
        options: ::checkpoint_core::__private::FunctionOptions {
            every_iters: ::core::option::Option::Some(1000u64),
            ..::checkpoint_core::__private::FunctionOptions::DEFAULT
        },
    };
    let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
        __checkpoint_schema::TriangleState<_>,
    >::start(&__CHECKPOINT_FUNCTION, &(::checkpoint_core::__private::key(&n),));
    let __checkpoint_run = &__checkpoint_run_owned;
    let mut __checkpoint_restored = match __checkpoint_run.take_state() {
        ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
        ::core::option::Option::None => {
            __checkpoint_schema::TriangleState {
                total: ::core::option::Option::None,
            }
        }
    };
    let __checkpoint_result = ::checkpoint_core::__private::body(move || -> u64 {
        let mut __checkpoint_restored_0 = __checkpoint_restored.total.take();
        #[allow(unused_variables)]
        let __checkpoint_watch = __checkpoint_run.watch();
        {
            let mut total = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_0.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => 0,
                },
            );
            {
                let mut __checkpoint_loop_0 = __checkpoint_run.enter(0u32, 0usize);
                if !__checkpoint_loop_0.finished_phase() {
                    let mut __checkpoint_iter = ::core::iter::IntoIterator::into_iter(
                        0..n,
                    );
                    __checkpoint_loop_0.fast_forward(&mut __checkpoint_iter);
                    #[allow(unused_labels)]
                    'rows: for i in __checkpoint_iter {
                        '__checkpoint_next_0: {
                            {
                                let mut __checkpoint_loop_1 = __checkpoint_run
                                    .enter(1u32, 1usize);
                                if !__checkpoint_loop_1.finished_phase() {
                                    let mut __checkpoint_iter = ::core::iter::IntoIterator::into_iter(
                                        0..i,
                                    );
                                    __checkpoint_loop_1.fast_forward(&mut __checkpoint_iter);
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
                                            for j in &mut __checkpoint_chunk {
                                                '__checkpoint_next_1: {
                                                    if j % 2 == 1 {
                                                        break '__checkpoint_next_1;
                                                    }
                                                    if j > 6 {
                                                        break '__checkpoint_next_0;
                                                    }
                                                    total += i * j;
                                                }
                                            }
                                            let __checkpoint_slow = __checkpoint_run
                                                .chunk_done(
                                                    &mut __checkpoint_loop_1,
                                                    __checkpoint_watch,
                                                    __checkpoint_chunk.taken(),
                                                );
                                            let __checkpoint_exhausted = __checkpoint_chunk.exhausted();
                                            if __checkpoint_slow | __checkpoint_exhausted {
                                                break (__checkpoint_slow, __checkpoint_exhausted);
                                            }
                                        };
                                        let mut __checkpoint_slot_0 = ::checkpoint_core::__private::SaveSlot::new();
                                        let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&total);
                                        let __checkpoint_at = [
                                            __checkpoint_loop_0.position(),
                                            __checkpoint_loop_1.position(),
                                        ];
                                        let __checkpoint_panicked = __checkpoint_run
                                            .after_chunks(
                                                &mut __checkpoint_loop_1,
                                                __checkpoint_slow,
                                                &__checkpoint_at,
                                                &__checkpoint_schema::TriangleState {
                                                    total: ::core::option::Option::Some(
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
                        }
                        #[allow(unreachable_code)]
                        if __checkpoint_run.iteration_done(&mut __checkpoint_loop_0) {
                            let mut __checkpoint_slot_0 = ::checkpoint_core::__private::SaveSlot::new();
                            let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&total);
                            __checkpoint_run
                                .save(
                                    &[__checkpoint_loop_0.position()],
                                    &__checkpoint_schema::TriangleState {
                                        total: ::core::option::Option::Some(
                                            __checkpoint_copy_0.get(),
                                        ),
                                    },
                                );
                        }
                    }
                }
            }
            total
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
