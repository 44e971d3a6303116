//! Host bindings of the `caliopen:platform@0.1.0` worlds, generated once.
//!
//! The qualifier world imports every host interface, so its bindings define the
//! shared types and host traits; the parser and broker bindings reuse them with
//! `with`, so one Rust type stands for each WIT type whatever the world.
//!
//! Each world's `*Pre` also gets `instantiate_checked`, the message path's way to
//! make an instance: the exports were type-checked once, at deploy ([`export`]).

#![allow(missing_debug_implementations, clippy::all, rust_2018_idioms)]

pub mod qualifier {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "qualifier",
        imports: { default: trappable | tracing },
        additional_derives: [PartialEq],
    });

    impl<T: 'static> QualifierPre<T> {
        /// Like `instantiate`, without type-checking the export again (see `bindings::export`).
        pub fn instantiate_checked(
            &self,
            mut store: impl wasmtime::AsContextMut<Data = T>,
        ) -> wasmtime::Result<Qualifier> {
            let instance = self.instance_pre.instantiate(&mut store)?;
            Ok(Qualifier {
                qualify: super::export(&mut store, &instance, &self.indices.qualify)?,
            })
        }
    }
}

pub mod parser {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "parser",
        imports: { default: trappable | tracing },
        with: {
            "caliopen:platform/types": super::qualifier::caliopen::platform::types,
            "caliopen:platform/log": super::qualifier::caliopen::platform::log,
            "caliopen:platform/clock": super::qualifier::caliopen::platform::clock,
            "caliopen:platform/config": super::qualifier::caliopen::platform::config,
        },
    });

    impl<T: 'static> ParserPre<T> {
        /// Like `instantiate`, without type-checking the export again (see `bindings::export`).
        pub fn instantiate_checked(
            &self,
            mut store: impl wasmtime::AsContextMut<Data = T>,
        ) -> wasmtime::Result<Parser> {
            let instance = self.instance_pre.instantiate(&mut store)?;
            Ok(Parser {
                parse: super::export(&mut store, &instance, &self.indices.parse)?,
            })
        }
    }
}

pub mod broker {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "broker",
        imports: { default: trappable | tracing },
        with: {
            "caliopen:platform/types": super::qualifier::caliopen::platform::types,
            "caliopen:platform/log": super::qualifier::caliopen::platform::log,
            "caliopen:platform/clock": super::qualifier::caliopen::platform::clock,
            "caliopen:platform/config": super::qualifier::caliopen::platform::config,
            "caliopen:platform/user": super::qualifier::caliopen::platform::user,
            "caliopen:platform/host-errors": super::qualifier::caliopen::platform::host_errors,
        },
    });

    impl<T: 'static> BrokerPre<T> {
        /// Like `instantiate`, without type-checking the exports again (see `bindings::export`).
        pub fn instantiate_checked(
            &self,
            mut store: impl wasmtime::AsContextMut<Data = T>,
        ) -> wasmtime::Result<Broker> {
            let instance = self.instance_pre.instantiate(&mut store)?;
            Ok(Broker {
                inbound: super::export(&mut store, &instance, &self.indices.inbound)?,
                outbound: super::export(&mut store, &instance, &self.indices.outbound)?,
            })
        }
    }
}

/// An export of a fresh instance, by the index its world's `*Pre::new` found.
///
/// `*Pre::new` (at deploy) type-checks every export of the component against the
/// world; the generated `instantiate` then type-checks them again on every
/// instance (`get_typed_func`), walking the whole message record each time: about
/// 3% of a chain call. An instance of the same `InstancePre` has the same
/// component and so the same types, so `instantiate_checked` only looks the
/// function up; the generated `call_*` methods call it with the world's types.
fn export(
    store: impl wasmtime::AsContextMut,
    instance: &wasmtime::component::Instance,
    index: &wasmtime::component::ComponentExportIndex,
) -> wasmtime::Result<wasmtime::component::Func> {
    instance
        .get_func(store, index)
        .ok_or_else(|| wasmtime::format_err!("the instance lacks an export its component has"))
}

pub use qualifier::caliopen::platform::{clock, config, contacts, host_errors, log, types, user};
