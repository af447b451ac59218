"""The static analysis: values, the interpreter over libcst nodes, and the facts it yields."""
