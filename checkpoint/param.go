package checkpoint

// Param is one tensor a checkpoint of an architecture holds: its state
// dict key and shape (PyTorch order). Optional tensors may be absent
// (BatchNorm's num_batches_tracked, missing from older torchvision files).
// Each backbone family lists its architecture's Params (backbone.Arch);
// the weights check, the random weights and the model builder derive
// from that list.
type Param struct {
	Name     string
	Shape    []int
	Optional bool
}
