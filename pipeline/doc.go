// Package pipeline is the library entry point of anomclust: it runs
// Anomaly Clustering (docs/METHOD.md, every section) on a folder of
// images and writes the results, as `anomclust run` does.
//
// For each category it lists the images (package dataset), computes or
// finds in the feature cache (package featcache) each image's patch
// embeddings Z with a backbone (packages preprocess, backbone/zoo,
// patchfeat), scores the patches for each weighting mode and turns the
// scores into patch weights alpha for every temperature tau (package
// alpha), embeds each image as X = sum alpha z, clusters X (package
// cluster), scores the clusters against the labels (package metrics), and
// writes everything in the layout of package rundir.
//
// A run is one call:
//
//	o, err := pipeline.Preset("")        // the method's settings: mobilenet_v2, stride8+stride16, ...
//	o.Data, o.Out = "mvtec", "out"       // an MVTec AD root, a category folder or a class-per-folder set
//	res, err := pipeline.Run(ctx, o)     // res.Summary: NMI, ARI, F1 per category, mode and tau
//
// Options.Backbone names a registry backbone whose weights are found or
// downloaded (package weights); Options.Net runs a backbone the caller
// already holds instead (see the example, which uses random ResNet-18
// weights and needs no file).
//
// With Options.Cache set (the CLI sets it by default), Z is computed once
// per image and kept on disk: a second run with other modes, temperatures
// or clustering does no backbone work. Every file is
// written atomically, so a cancelled run (Ctrl-C) leaves whole files or
// none.
//
// RunShard and Merge split a run over machines (shard.go): embed shards,
// then score shards, then one merge, exchanging files through a run
// folder or bucket (package runstore); the merged run equals Run's.
package pipeline
