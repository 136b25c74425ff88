use checkpoint_core::checkpointed;
pub struct Corpus<'a> {
    words: Vec<&'a str>,
}
impl<'a> Corpus<'a> {
    /// Counts the words that pass `keep`, consuming the corpus.
    #[must_use]
    #[inline]
    pub(crate) fn count_kept(self, keep: impl Fn(&str) -> bool) -> usize {
        mod __checkpoint_schema {
            #[derive(
                ::checkpoint_core::__private::serde::Serialize,
                ::checkpoint_core::__private::serde::Deserialize
            )]
            #[serde(crate = "::checkpoint_core::__private::serde")]
            #[serde(
                bound(
                    serialize = "Kept: ::checkpoint_core::__private::SavedField",
                    deserialize = "Kept: ::checkpoint_core::__private::StateValue"
                )
            )]
            pub struct CountKeptState<Kept> {
                pub kept: ::core::option::Option<Kept>,
            }
            impl<Kept> ::checkpoint_core::__private::StateSchema
            for CountKeptState<Kept> {
                fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                    schema.field::<Kept>("kept");
                }
            }
        }
        static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
            crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
                ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
                ::core::option::Option::None => "",
            },
            module_path: ::core::module_path!(),
            function: "count_kept",
            name: ::core::option::Option::None,
            code_fingerprint: 1037874978437373370u64,
            loop_shape: "0()",
            loop_titles: &["for word in &self.words"],
            loop_parents: &[4294967295u32],
            options: ::checkpoint_core::__private::FunctionOptions {
                every_ms: ::core::option::Option::Some(
                    ::checkpoint_core::__private::duration_ms("10s"),
                ),
                ..::checkpoint_core::__private::FunctionOptions::DEFAULT
            },
        };
        let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
            __checkpoint_schema::CountKeptState<_>,
        >::start(
            &__CHECKPOINT_FUNCTION,
            &(
                ::checkpoint_core::__private::key(&self),
                ::checkpoint_core::__private::key(::core::any::type_name::<Self>()),
            ),
        );
        let __checkpoint_run = &__checkpoint_run_owned;
        let mut __checkpoint_restored = match __checkpoint_run.take_state() {
            ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
            ::core::option::Option::None => {
                __checkpoint_schema::CountKeptState {
                    kept: ::core::option::Option::None,
                }
            }
        };
        let __checkpoint_result = ::checkpoint_core::__private::body(move || -> usize {
            let mut __checkpoint_restored_0 = __checkpoint_restored.kept.take();
            #[allow(unused_variables)]
            let __checkpoint_watch = __checkpoint_run.watch();
            {
                let mut kept = ::checkpoint_core::__private::state_value(
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
                            &self.words,
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
                                for word in &mut __checkpoint_chunk {
                                    {
                                        if keep(word) {
                                            kept += 1;
                                        }
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
                            let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&kept);
                            let __checkpoint_at = [__checkpoint_loop_0.position()];
                            let __checkpoint_panicked = __checkpoint_run
                                .after_chunks(
                                    &mut __checkpoint_loop_0,
                                    __checkpoint_slow,
                                    &__checkpoint_at,
                                    &__checkpoint_schema::CountKeptState {
                                        kept: ::core::option::Option::Some(
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
                kept
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
    /// The longest word starting with `prefix`.
    pub fn longest<'p>(&self, prefix: &'p str) -> Option<&'a str> {
        mod __checkpoint_schema {
            #[derive(
                ::checkpoint_core::__private::serde::Serialize,
                ::checkpoint_core::__private::serde::Deserialize
            )]
            #[serde(crate = "::checkpoint_core::__private::serde")]
            #[serde(
                bound(
                    serialize = "Best: ::checkpoint_core::__private::SavedField",
                    deserialize = "Best: ::checkpoint_core::__private::StateValue"
                )
            )]
            pub struct LongestState<Best> {
                pub best: ::core::option::Option<Best>,
            }
            impl<Best> ::checkpoint_core::__private::StateSchema for LongestState<Best> {
                fn describe(schema: &mut ::checkpoint_core::__private::Schema) {
                    schema.field::<Best>("best");
                }
            }
        }
        static __CHECKPOINT_FUNCTION: ::checkpoint_core::__private::Function = ::checkpoint_core::__private::Function {
            crate_name: match ::core::option_env!("CARGO_CRATE_NAME") {
                ::core::option::Option::Some(__checkpoint_crate) => __checkpoint_crate,
                ::core::option::Option::None => "",
            },
            module_path: ::core::module_path!(),
            function: "longest",
            name: ::core::option::Option::None,
            code_fingerprint: 2582239566192841856u64,
            loop_shape: "0()",
            loop_titles: &["for (i, word) in self.words.iter().enumerate()"],
            loop_parents: &[4294967295u32],
            options: ::checkpoint_core::__private::FunctionOptions {
                ..::checkpoint_core::__private::FunctionOptions::DEFAULT
            },
        };
        let __checkpoint_run_owned = ::checkpoint_core::__private::Run::<
            __checkpoint_schema::LongestState<_>,
        >::start(
            &__CHECKPOINT_FUNCTION,
            &(
                ::checkpoint_core::__private::key(&prefix),
                ::checkpoint_core::__private::key(::core::any::type_name::<Self>()),
            ),
        );
        let __checkpoint_run = &__checkpoint_run_owned;
        let mut __checkpoint_restored = match __checkpoint_run.take_state() {
            ::core::option::Option::Some(__checkpoint_saved) => __checkpoint_saved,
            ::core::option::Option::None => {
                __checkpoint_schema::LongestState {
                    best: ::core::option::Option::None,
                }
            }
        };
        let __checkpoint_result = ::checkpoint_core::__private::body(move || -> Option<
            &'a str,
        > {
            let mut __checkpoint_restored_0 = __checkpoint_restored.best.take();
            #[allow(unused_variables)]
            let __checkpoint_watch = __checkpoint_run.watch();
            {
                let mut best: Option<usize> = ::checkpoint_core::__private::state_value(
                    match __checkpoint_restored_0.take() {
                        ::core::option::Option::Some(__checkpoint_value) => {
                            __checkpoint_value
                        }
                        ::core::option::Option::None => None,
                    },
                );
                {
                    let mut __checkpoint_loop_0 = __checkpoint_run.enter(0u32, 0usize);
                    if !__checkpoint_loop_0.finished_phase() {
                        let mut __checkpoint_iter = ::core::iter::IntoIterator::into_iter(
                            self.words.iter().enumerate(),
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
                                for (i, word) in &mut __checkpoint_chunk {
                                    {
                                        if word.starts_with(prefix)
                                            && best.is_none_or(|b| self.words[b].len() < word.len())
                                        {
                                            best = Some(i);
                                        }
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
                            let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&best);
                            let __checkpoint_at = [__checkpoint_loop_0.position()];
                            let __checkpoint_panicked = __checkpoint_run
                                .after_chunks(
                                    &mut __checkpoint_loop_0,
                                    __checkpoint_slow,
                                    &__checkpoint_at,
                                    &__checkpoint_schema::LongestState {
                                        best: ::core::option::Option::Some(
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
                best.map(|i| self.words[i])
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
