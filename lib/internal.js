'use strict';
// Package-internal links between public objects: which native handle backs a TokenBroker or a
// TokenVerifier (so Gateway.connect can hand it to the native gateway). Not exported from the package.

/** @type {WeakMap<object, object>} public object → its native handle */
const nativeHandles = new WeakMap();

module.exports = { nativeHandles };
