//! The port contract suites against the in-memory fakes (`adapter-memory`), which is what
//! lets use-case tests trust them.

mod memory {
    tests::contract_tests!(tests::backends::memory);
}
