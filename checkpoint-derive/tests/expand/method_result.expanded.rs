use checkpoint_core::checkpointed;
#[derive(serde::Serialize)]
pub struct Ledger {
    entries: Vec<String>,
    balance: i64,
}
impl Ledger {
    /// Applies every entry, stopping at the first that does not parse.
    pub fn apply(&mut self, start: i64) -> Result<i64, std::num::ParseIntError> {
        mod __checkpoint_schema {
            #[derive(
                ::checkpoint_core::__private::serde::Serialize,
                ::checkpoint_core::__private::serde::Deserialize
            )]
            #[serde(crate = "::checkpoint_core::__private::serde")]
            #[serde(
                bound(
                    serialize = "Balance: ::checkpoint_core::__private::SavedField",
                    deserialize = "Balance: ::checkpoint_core::__private::StateValue"
                )
            )]
            pub struct ApplyState<Balance> {
                pub balance: ::core::option::Option<Balance>,
            }
            impl<Balance> ::checkpoint_core::__private::StateSchema
            for ApplyState<Balance> {
                fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                    schema.field::<Balance>("balance");
                }
            }
        }
        static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
            crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
                ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
                ::core::option::Option::None => "",
            },
            module_path: ::core::module_path!(),
            function: "apply",
            name: ::core::option::Option::None,
            code_fingerprint: 9363612843408841004u64,
            loop_shape: "0()",
            loop_titles: &["for entry in &self.entries"],
            loop_parents: &[4294967295u32],
            options: ::checkpoint_core::__private::FunctionOptions {
                every_iters: ::core::option::Option::Some(100u64),
                strict: true,
                ..::checkpoint_core::__private::FunctionOptions::DEFAULT
            },
        };
        let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
            __checkpoint_schema::ApplyState<_>,
        >::start(
            &__CHECKPOINT_FUNCTION,
            &(
                ::checkpoint_core::__private::key(&self),
                ::checkpoint_core::__private::key(&start),
                ::checkpoint_core::__private::key(::core::any::type_name::<Self>()),
            ),
        );
        let __checkpoint_run = &__checkpoint_run_owned;
        let mut __checkpoint_restored = match __checkpoint_run.take_state() {
            ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
            ::core::option::Option::None => {
                __checkpoint_schema::ApplyState {
                    balance: ::core::option::Option::None,
                }
            }
        };
        let __checkpoint_result = ::checkpoint_core::__private::body(move || -> Result<
            i64,
            std::num::ParseIntError,
        > {
            let mut __checkpoint_restored_0 = __checkpoint_restored.balance.take();
            #[allow(unused_variables)]
            let __checkpoint_watch = __checkpoint_run.watch();
            {
                let mut balance = ::checkpoint_core::__private::state_value(
                    match __checkpoint_restored_0.take() {
                        ::core::option::Option::Some(__checkpoint_value) => {
                            __checkpoint_value
                        }
                        ::core::option::Option::None => start,
                    },
                );
                {
                    let mut __checkpoint_loop_0 = __checkpoint_run.enter(0u32, 0usize);
                    if !__checkpoint_loop_0.finished_phase() {
                        let mut __checkpoint_iter = ::core::iter::IntoIterator::into_iter(
                            &self.entries,
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
                                for entry in &mut __checkpoint_chunk {
                                    {
                                        balance += entry.parse::<i64>()?;
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
                            let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&balance);
                            let __checkpoint_at = [__checkpoint_loop_0.position()];
                            let __checkpoint_panicked = __checkpoint_run
                                .after_chunks(
                                    &mut __checkpoint_loop_0,
                                    __checkpoint_slow,
                                    &__checkpoint_at,
                                    &__checkpoint_schema::ApplyState {
                                        balance: ::core::option::Option::Some(
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
                self.balance = balance;
                Ok(balance)
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
    /// The receiver named in `key`: each ledger is a run of its own.
    pub fn count_large(&self, limit: usize) -> usize {
        mod __checkpoint_schema {
            #[derive(
                ::checkpoint_core::__private::serde::Serialize,
                ::checkpoint_core::__private::serde::Deserialize
            )]
            #[serde(crate = "::checkpoint_core::__private::serde")]
            #[serde(
                bound(
                    serialize = "Count: ::checkpoint_core::__private::SavedField",
                    deserialize = "Count: ::checkpoint_core::__private::StateValue"
                )
            )]
            pub struct CountLargeState<Count> {
                pub count: ::core::option::Option<Count>,
            }
            impl<Count> ::checkpoint_core::__private::StateSchema
            for CountLargeState<Count> {
                fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                    schema.field::<Count>("count");
                }
            }
        }
        static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
            crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
                ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
                ::core::option::Option::None => "",
            },
            module_path: ::core::module_path!(),
            function: "count_large",
            name: ::core::option::Option::None,
            code_fingerprint: 6842431533034415733u64,
            loop_shape: "0()",
            loop_titles: &["for entry in &self.entries"],
            loop_parents: &[4294967295u32],
            options: ::checkpoint_core::__private::FunctionOptions {
                ..::checkpoint_core::__private::FunctionOptions::DEFAULT
            },
        };
        let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
            __checkpoint_schema::CountLargeState<_>,
        >::start(
            &__CHECKPOINT_FUNCTION,
            &(
                ::checkpoint_core::__private::key(&self),
                ::checkpoint_core::__private::key(&limit),
                ::checkpoint_core::__private::key(::core::any::type_name::<Self>()),
            ),
        );
        let __checkpoint_run = &__checkpoint_run_owned;
        let mut __checkpoint_restored = match __checkpoint_run.take_state() {
            ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
            ::core::option::Option::None => {
                __checkpoint_schema::CountLargeState {
                    count: ::core::option::Option::None,
                }
            }
        };
        let __checkpoint_result = ::checkpoint_core::__private::body(move || -> usize {
            let mut __checkpoint_restored_0 = __checkpoint_restored.count.take();
            #[allow(unused_variables)]
            let __checkpoint_watch = __checkpoint_run.watch();
            {
                let mut count = ::checkpoint_core::__private::state_value(
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
                            &self.entries,
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
                                for entry in &mut __checkpoint_chunk {
                                    {
                                        count += usize::from(entry.len() > limit);
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
                            let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&count);
                            let __checkpoint_at = [__checkpoint_loop_0.position()];
                            let __checkpoint_panicked = __checkpoint_run
                                .after_chunks(
                                    &mut __checkpoint_loop_0,
                                    __checkpoint_slow,
                                    &__checkpoint_at,
                                    &__checkpoint_schema::CountLargeState {
                                        count: ::core::option::Option::Some(
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
                count
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
}
