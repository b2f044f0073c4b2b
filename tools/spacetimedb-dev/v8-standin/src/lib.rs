//! API-compatible placeholders for the parts of `v8` that `spacetimedb-core` 1.3.0 names.
//!
//! Every function that would touch a JavaScript engine panics with [`not_available`]: the server we
//! build only hosts wasm modules, so none of them is reachable. The platform initialisers are no-ops
//! because spacetimedb-core may call them lazily from its (never used) JS host.
#![allow(clippy::new_ret_no_self, clippy::should_implement_trait)]

use std::marker::PhantomData;
use std::ops::Deref;

fn not_available() -> ! {
    panic!("this SpacetimeDB build has no JavaScript module host (v8 stand-in crate)")
}

/// A platform handle; `make_shared` mirrors the real crate's `UniqueRef::make_shared`.
pub struct Platform(());

impl Platform {
    pub fn make_shared(self) -> Platform {
        self
    }
}

pub fn new_default_platform(_thread_pool_size: u32, _idle_task_support: bool) -> Platform {
    Platform(())
}

pub struct V8;

impl V8 {
    pub fn initialize_platform(_platform: Platform) {}
    pub fn initialize() {}
}

/// A scope that owns local handles. Never constructed here.
pub struct HandleScope<'s> {
    _scope: PhantomData<&'s mut ()>,
}

/// A handle to a JavaScript value of type `T`, valid for the scope `'s`. Never constructed here.
pub struct Local<'s, T> {
    _handle: PhantomData<(&'s (), *const T)>,
}

impl<T> Clone for Local<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Local<'_, T> {}

impl<T> Deref for Local<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        not_available()
    }
}

/// The error of a failed `try_cast`.
#[derive(Debug)]
pub struct DataError(());

impl<'s, T> Local<'s, T> {
    pub fn try_cast<U>(self) -> Result<Local<'s, U>, DataError>
    where
        Local<'s, U>: TryFrom<Local<'s, T>>,
    {
        Local::<'s, U>::try_from(self).map_err(|_| DataError(()))
    }
}

/// Declares value types that convert up into `Local<Value>` and (checked) down from it.
macro_rules! value_types {
    ($($ty:ident),*) => {$(
        pub struct $ty(());

        impl<'s> From<Local<'s, $ty>> for Local<'s, Value> {
            fn from(_: Local<'s, $ty>) -> Self {
                not_available()
            }
        }

        impl<'s> TryFrom<Local<'s, Value>> for Local<'s, $ty> {
            type Error = DataError;
            fn try_from(_: Local<'s, Value>) -> Result<Self, DataError> {
                not_available()
            }
        }
    )*};
}

pub struct Value(());

impl Value {
    pub fn type_repr(&self) -> &'static str {
        not_available()
    }
}

value_types!(String, Boolean, Number, Integer, Int32, Uint32, BigInt);

impl String {
    pub fn new<'s>(_scope: &mut HandleScope<'s>, _value: &str) -> Option<Local<'s, String>> {
        not_available()
    }
}

impl Boolean {
    pub fn new<'s>(_scope: &mut HandleScope<'s>, _value: bool) -> Local<'s, Boolean> {
        not_available()
    }
    pub fn is_true(&self) -> bool {
        not_available()
    }
}

impl Number {
    pub fn new<'s>(_scope: &mut HandleScope<'s>, _value: f64) -> Local<'s, Number> {
        not_available()
    }
    pub fn value(&self) -> f64 {
        not_available()
    }
}

impl Integer {
    pub fn new<'s>(_scope: &mut HandleScope<'s>, _value: i32) -> Local<'s, Integer> {
        not_available()
    }
    pub fn new_from_unsigned<'s>(_scope: &mut HandleScope<'s>, _value: u32) -> Local<'s, Integer> {
        not_available()
    }
}

impl Int32 {
    pub fn value(&self) -> i32 {
        not_available()
    }
}

impl Uint32 {
    pub fn value(&self) -> u32 {
        not_available()
    }
}

impl BigInt {
    pub fn new_from_i64<'s>(_scope: &mut HandleScope<'s>, _value: i64) -> Local<'s, BigInt> {
        not_available()
    }
    pub fn new_from_u64<'s>(_scope: &mut HandleScope<'s>, _value: u64) -> Local<'s, BigInt> {
        not_available()
    }
    pub fn new_from_words<'s>(
        _scope: &mut HandleScope<'s>,
        _sign_bit: bool,
        _words: &[u64],
    ) -> Option<Local<'s, BigInt>> {
        not_available()
    }
    pub fn u64_value(&self) -> (u64, bool) {
        not_available()
    }
    pub fn i64_value(&self) -> (i64, bool) {
        not_available()
    }
    pub fn word_count(&self) -> usize {
        not_available()
    }
    pub fn to_words_array<'a>(&self, _words: &'a mut [u64]) -> (bool, &'a mut [u64]) {
        not_available()
    }
}

pub struct Exception(());

impl Exception {
    pub fn type_error<'s>(_scope: &mut HandleScope<'s>, _message: Local<'s, String>) -> Local<'s, Value> {
        not_available()
    }
}
