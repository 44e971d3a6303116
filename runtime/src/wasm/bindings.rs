//! Host bindings of the `caliopen:platform@0.1.0` worlds, generated once.
//!
//! The qualifier world imports every host interface, so its bindings define the
//! shared types and host traits; the parser and broker bindings reuse them with
//! `with`, so one Rust type stands for each WIT type whatever the world.

#![allow(missing_debug_implementations, clippy::all, rust_2018_idioms)]

pub mod qualifier {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "qualifier",
        imports: { default: trappable | tracing },
        additional_derives: [PartialEq],
    });
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
}

pub use qualifier::caliopen::platform::{clock, config, contacts, host_errors, log, types, user};
