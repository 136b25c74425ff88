use checkpoint_core::checkpointed;
fn two_phases(n: usize) -> u64 {
    mod __checkpoint_schema {
        #[derive(
            ::checkpoint_core::__private::serde::Serialize,
            ::checkpoint_core::__private::serde::Deserialize
        )]
        #[serde(crate = "::checkpoint_core::__private::serde")]
        #[serde(
            bound(
                serialize = "Squares: ::checkpoint_core::__private::SavedField, Checksum: ::checkpoint_core::__private::SavedField",
                deserialize = "Squares: ::checkpoint_core::__private::StateValue, Checksum: ::checkpoint_core::__private::StateValue"
            )
        )]
        pub struct TwoPhasesState<Squares, Checksum> {
            pub squares: ::core::option::Option<Squares>,
            pub checksum: ::core::option::Option<Checksum>,
        }
        impl<Squares, Checksum> ::checkpoint_core::__private::StateSchema
        for TwoPhasesState<Squares, Checksum> {
            fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                schema.field::<Squares>("squares");
                schema.field::<Checksum>("checksum");
            }
        }
    }
    static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
        crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
            ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
            ::core::option::Option::None => "",
        },
        module_path: ::core::module_path!(),
        function: "two_phases",
        name: ::core::option::Option::None,
        code_fingerprint: 12112859875744321383u64,
        loop_shape: "0()1()",
        loop_titles: &["for i in 0..n as u64", "for square in &squares"],
        loop_parents: &[4294967295u32, 4294967295u32],
        options: ::checkpoint_core::__private::FunctionOptions {
            every_ms: ::core::option::Option::Some(
                ::checkpoint_core::__private::duration_ms("30s"),
            ),
            keep: ::core::option::Option::Some(3usize),
            ..::checkpoint_core::__private::FunctionOptions::DEFAULT
        },
    };
    let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
        __checkpoint_schema::TwoPhasesState<_, _>,
    >::start(&__CHECKPOINT_FUNCTION, &(::checkpoint_core::__private::key(&n),));
    let __checkpoint_run = &__checkpoint_run_owned;
    let mut __checkpoint_restored = match __checkpoint_run.take_state() {
        ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
        ::core::option::Option::None => {
            __checkpoint_schema::TwoPhasesState {
                squares: ::core::option::Option::None,
                checksum: ::core::option::Option::None,
            }
        }
    };
    let __checkpoint_result = ::checkpoint_core::__private::body(move || -> u64 {
        let mut __checkpoint_restored_0 = __checkpoint_restored.squares.take();
        let mut __checkpoint_restored_1 = __checkpoint_restored.checksum.take();
        #[allow(unused_variables)]
        let __checkpoint_watch = __checkpoint_run.watch();
        {
            let mut squares: Vec<u64> = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_0.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => Vec::with_capacity(n),
                },
            );
            {
                let mut __checkpoint_loop_0 = __checkpoint_run.enter(0u32, 0usize);
                if !__checkpoint_loop_0.finished_phase() {
                    let mut __checkpoint_iter = ::core::iter::IntoIterator::into_iter(
                        0..n as u64,
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
                                    squares.push(i * i);
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
                        let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&squares);
                        let __checkpoint_at = [__checkpoint_loop_0.position()];
                        let __checkpoint_panicked = __checkpoint_run
                            .after_chunks(
                                &mut __checkpoint_loop_0,
                                __checkpoint_slow,
                                &__checkpoint_at,
                                &__checkpoint_schema::TwoPhasesState {
                                    squares: ::core::option::Option::Some(
                                        __checkpoint_copy_0.get(),
                                    ),
                                    checksum: ::core::option::Option::None::<()>,
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
            let mut checksum = ::checkpoint_core::__private::state_value(
                match __checkpoint_restored_1.take() {
                    ::core::option::Option::Some(__checkpoint_value) => {
                        __checkpoint_value
                    }
                    ::core::option::Option::None => 0_u64,
                },
            );
            {
                let mut __checkpoint_loop_1 = __checkpoint_run.enter(1u32, 0usize);
                if !__checkpoint_loop_1.finished_phase() {
                    let mut __checkpoint_iter = ::core::iter::IntoIterator::into_iter(
                        &squares,
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
                            for square in &mut __checkpoint_chunk {
                                {
                                    checksum = checksum.wrapping_mul(31).wrapping_add(*square);
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
                        let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&squares);
                        let mut __checkpoint_slot_1 = ::checkpoint_core::__private::SaveSlot::new();
                        let __checkpoint_copy_1 = __checkpoint_slot_1.copy(&checksum);
                        let __checkpoint_at = [__checkpoint_loop_1.position()];
                        let __checkpoint_panicked = __checkpoint_run
                            .after_chunks(
                                &mut __checkpoint_loop_1,
                                __checkpoint_slow,
                                &__checkpoint_at,
                                &__checkpoint_schema::TwoPhasesState {
                                    squares: ::core::option::Option::Some(
                                        __checkpoint_copy_0.get(),
                                    ),
                                    checksum: ::core::option::Option::Some(
                                        __checkpoint_copy_1.get(),
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
            checksum
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
