package torchpt

// Opcodes that name or make objects: whitelisted globals, torch storages
// (persistent ids), calls (REDUCE), NEWOBJ and BUILD.

// global pushes GLOBAL's module.name, if allowed.
func (u *unpickler) global(byte) error {
	module, err := u.line()
	if err != nil {
		return err
	}
	name, err := u.line()
	if err != nil {
		return err
	}
	g, err := findGlobal(module, name)
	if err != nil {
		return err
	}
	u.push(g)
	return nil
}

// stackGlobal is GLOBAL with module and name popped from the stack.
func (u *unpickler) stackGlobal(byte) error {
	name, err := u.pop()
	if err != nil {
		return err
	}
	module, err := u.pop()
	if err != nil {
		return err
	}
	ms, ok1 := module.(string)
	ns, ok2 := name.(string)
	if !ok1 || !ok2 {
		return u.errorf("STACK_GLOBAL with non-string names")
	}
	g, err := findGlobal(ms, ns)
	if err != nil {
		return err
	}
	u.push(g)
	return nil
}

// persID resolves BINPERSID's id (torch's storage tuple) with
// u.persistentLoad.
func (u *unpickler) persID(byte) error {
	pid, err := u.pop()
	if err != nil {
		return err
	}
	if u.persistentLoad == nil {
		return u.errorf("persistent id in a pickle that may not have one")
	}
	v, err := u.persistentLoad(pid)
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

// reduce applies a whitelisted callable to its argument tuple (see call).
func (u *unpickler) reduce(byte) error {
	args, err := u.pop()
	if err != nil {
		return err
	}
	fn, err := u.pop()
	if err != nil {
		return err
	}
	t, ok := args.(tuple)
	if !ok {
		return u.errorf("REDUCE arguments are a %T, not a tuple", args)
	}
	v, err := u.call(fn, t)
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

// newObj is cls.__new__(cls, *args) for the two classes a checkpoint
// instantiates that way.
func (u *unpickler) newObj(byte) error {
	args, err := u.pop()
	if err != nil {
		return err
	}
	cls, err := u.pop()
	if err != nil {
		return err
	}
	g, ok := cls.(global)
	if _, isTuple := args.(tuple); !ok || !isTuple {
		return u.errorf("NEWOBJ on a %T", cls)
	}
	switch g.String() {
	case "argparse.Namespace":
		u.push(&object{class: g})
	case "collections.OrderedDict":
		u.push(newDict())
	default:
		return u.errorf("NEWOBJ of %s is not supported", g)
	}
	return nil
}

// build sets the state of the object below the top (BUILD).
func (u *unpickler) build(byte) error {
	state, err := u.pop()
	if err != nil {
		return err
	}
	obj, err := u.top()
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *object:
		o.state = state
	case *dict:
		// OrderedDict.__reduce__ carries the instance __dict__ as
		// state: a state dict's _metadata (module versions). Not needed.
	case *tensorRef:
		// Tensor attributes set after _rebuild_tensor (rare); ignored.
	default:
		return u.errorf("BUILD on a %T", obj)
	}
	return nil
}
