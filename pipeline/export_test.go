package pipeline

// CoresetSelections counts the bank coresets the model saver selected
// itself instead of reusing the semi scores' selection.
var CoresetSelections = &coresetSelections

// FullDecodes counts the images the pre-flight check decoded in full.
var FullDecodes = &fullDecodes
