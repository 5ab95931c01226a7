package torchpt

// Pickle opcodes the unpickler runs, with the names of Python's
// Lib/pickle.py (and pickletools), by the protocol that introduced them.
// torch.save writes protocol 2; the rest are accepted because they are
// cheap and safe. Opcodes not listed (INST, OBJ, PERSID, the text INT,
// LONG, FLOAT, STRING, UNICODE, GET, PUT, the extension registry, sets,
// NEWOBJ_EX, ...) are errors naming the byte.
const (
	// Protocol 0 and 1.
	opMark           = '(' // push a mark: the start of a TUPLE, LIST, DICT, ... run
	opStop           = '.' // end of the program: the top of the stack is the result
	opPop            = '0' // discard the top of the stack
	opPopMark        = '1' // discard everything down to the last mark
	opDup            = '2' // push the top of the stack again
	opNone           = 'N' // push None
	opBinInt         = 'J' // push a 4-byte signed int
	opBinInt1        = 'K' // push a 1-byte unsigned int
	opBinInt2        = 'M' // push a 2-byte unsigned int
	opBinFloat       = 'G' // push an 8-byte big-endian float
	opBinString      = 'T' // push a str of 4-byte length (py2 str)
	opShortBinString = 'U' // push a str of 1-byte length (py2 str)
	opBinUnicode     = 'X' // push a UTF-8 str of 4-byte length
	opEmptyTuple     = ')' // push ()
	opTuple          = 't' // build a tuple of the items since the mark
	opEmptyList      = ']' // push []
	opList           = 'l' // build a list of the items since the mark
	opAppend         = 'a' // append the top to the list below it
	opAppends        = 'e' // extend the list below the mark with the items since it
	opEmptyDict      = '}' // push {}
	opDict           = 'd' // build a dict of the key, value pairs since the mark
	opSetItem        = 's' // set dict[key] = value (top three: dict, key, value)
	opSetItems       = 'u' // set the pairs since the mark in the dict below it
	opBinPut         = 'q' // memo[1-byte index] = top
	opLongBinPut     = 'r' // memo[4-byte index] = top
	opBinGet         = 'h' // push memo[1-byte index]
	opLongBinGet     = 'j' // push memo[4-byte index]
	opGlobal         = 'c' // push module.name, both newline-terminated
	opBinPersID      = 'Q' // push persistent_load(top): a torch storage
	opReduce         = 'R' // push callable(*args) (top two: callable, args)
	opBuild          = 'b' // set the state (top) of the object below it

	// Protocol 2.
	opProto    = 0x80 // protocol version (1 byte)
	opNewObj   = 0x81 // push cls.__new__(cls, *args)
	opTuple1   = 0x85 // build a tuple of the top item
	opTuple2   = 0x86 // ... of the top two
	opTuple3   = 0x87 // ... of the top three
	opNewTrue  = 0x88 // push True
	opNewFalse = 0x89 // push False
	opLong1    = 0x8a // push an int of 1-byte length, little-endian two's complement

	// Protocol 3.
	opBinBytes      = 'B' // push bytes of 4-byte length
	opShortBinBytes = 'C' // push bytes of 1-byte length

	// Protocol 4.
	opShortBinUnicode = 0x8c // push a UTF-8 str of 1-byte length
	opBinUnicode8     = 0x8d // push a UTF-8 str of 8-byte length
	opBinBytes8       = 0x8e // push bytes of 8-byte length
	opStackGlobal     = 0x93 // push module.name, both strs popped from the stack
	opMemoize         = 0x94 // memo[len(memo)] = top
	opFrame           = 0x95 // a frame of 8-byte length follows (a hint only)
)

// opHandlers runs every opcode but STOP, by concern: the machine's own
// state (pickle_machine.go: protocol, frames, marks, the memo), Python
// values (pickle_values.go: scalars, strings, containers) and objects
// (pickle_objects.go: globals, calls, torch storages). A nil entry is an
// unsupported opcode.
var opHandlers = [256]func(u *unpickler, op byte) error{
	opProto:      (*unpickler).proto,
	opFrame:      (*unpickler).frame,
	opMark:       (*unpickler).mark,
	opPop:        (*unpickler).popOp,
	opPopMark:    (*unpickler).popMarkOp,
	opDup:        (*unpickler).dup,
	opBinPut:     (*unpickler).put,
	opLongBinPut: (*unpickler).put,
	opMemoize:    (*unpickler).put,
	opBinGet:     (*unpickler).get,
	opLongBinGet: (*unpickler).get,

	opNone:            (*unpickler).constant,
	opNewTrue:         (*unpickler).constant,
	opNewFalse:        (*unpickler).constant,
	opBinInt:          (*unpickler).integer,
	opBinInt1:         (*unpickler).integer,
	opBinInt2:         (*unpickler).integer,
	opLong1:           (*unpickler).integer,
	opBinFloat:        (*unpickler).binFloat,
	opShortBinBytes:   (*unpickler).str,
	opBinBytes:        (*unpickler).str,
	opBinBytes8:       (*unpickler).str,
	opShortBinString:  (*unpickler).str,
	opShortBinUnicode: (*unpickler).str,
	opBinString:       (*unpickler).str,
	opBinUnicode:      (*unpickler).str,
	opBinUnicode8:     (*unpickler).str,
	opEmptyTuple:      (*unpickler).tuple,
	opTuple:           (*unpickler).tuple,
	opTuple1:          (*unpickler).tuple,
	opTuple2:          (*unpickler).tuple,
	opTuple3:          (*unpickler).tuple,
	opEmptyList:       (*unpickler).list,
	opList:            (*unpickler).list,
	opAppend:          (*unpickler).appendOp,
	opAppends:         (*unpickler).appends,
	opEmptyDict:       (*unpickler).dict,
	opDict:            (*unpickler).dict,
	opSetItem:         (*unpickler).setItem,
	opSetItems:        (*unpickler).setItemsOp,

	opGlobal:      (*unpickler).global,
	opStackGlobal: (*unpickler).stackGlobal,
	opBinPersID:   (*unpickler).persID,
	opReduce:      (*unpickler).reduce,
	opNewObj:      (*unpickler).newObj,
	opBuild:       (*unpickler).build,
}

// load runs the pickle program from u.pos to its STOP and returns the
// value it built.
func (u *unpickler) load() (any, error) {
	if u.memo == nil {
		u.memo = map[uint32]any{}
	}
	for {
		op, err := u.u8()
		if err != nil {
			return nil, err
		}
		if op == opStop {
			return u.pop()
		}
		run := opHandlers[op]
		if run == nil {
			return nil, u.errorf("unsupported pickle opcode 0x%02x", op)
		}
		if err := run(u, op); err != nil {
			return nil, err
		}
	}
}
