// ATOMIX_EXPORT: what the SDK's shared libraries export.
//
// A -DBUILD_SHARED_LIBS=ON build compiles the SDK with hidden visibility
// (-fvisibility=hidden -fvisibility-inlines-hidden): only declarations marked
// ATOMIX_EXPORT are in libatomix_sdk.so / libatomix_sdk_core.so's dynamic
// symbol table. Everything in include/atomix/ that an application can reach
// is marked: the public classes and functions, and the internal/ cores that
// the public templates (Map<K,V>, Value<T>, ...) call from the
// application's own code. The SDK's private classes (sdk/src, primitives/src:
// ClientCore, transports, the watch hub, ...) are not, so applications cannot
// come to depend on them.
//
// The marker is the same when building and when using the libraries (ELF
// needs no import/export distinction), and harmless in a static build.
#ifndef ATOMIX_EXPORT_H_
#define ATOMIX_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define ATOMIX_EXPORT __attribute__((visibility("default")))
#else
#define ATOMIX_EXPORT
#endif

#endif  // ATOMIX_EXPORT_H_
