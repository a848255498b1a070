// Stands in, inside the bundle, for native add-ons that ezio never uses
// (ws's bufferutil/utf-8-validate, fs-native-extensions): each library
// loads them in a try block and goes on without them when they are missing.
throw Object.assign(new Error('native add-on left out of the ezio bundle'), { code: 'MODULE_NOT_FOUND' })
