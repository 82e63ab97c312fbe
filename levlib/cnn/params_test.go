package cnn

import "testing"

// TestParamShapesIsACopy checks that a caller changing ParamShapes or ParamNames changes nothing else.
func TestParamShapesIsACopy(t *testing.T) {
	s := ParamShapes()
	s[0][0] = 1
	s[1] = nil
	n := ParamNames()
	n[0] = "x"
	if paramShapes[0][0] != 32 || paramShapes[1] == nil || paramNames[0] != "net.1.weight" {
		t.Fatalf("package parameters changed through the returned slices: %v %v", paramShapes, paramNames)
	}
	if got := Init(1); len(got.Params[0]) != 32*9 {
		t.Errorf("Init after the change: %d conv1 weights", len(got.Params[0]))
	}
}

// TestFLOPs derives the network's arithmetic from its parameter shapes — a convolution's weights
// times the positions it is applied at (28·28 for conv1, 14·14 for conv2 after the first pooling, both
// padded to keep their size), a dense layer's weights once — and checks ForwardFLOPs and TrainFLOPs
// against it and against the sums worked by hand (225,792 + 3,612,672 + 627,200 + 2,000 multiply-adds
// forward; training adds the weight gradients, 4,467,664, and the input gradients of all layers but
// conv1, 4,241,872).
func TestFLOPs(t *testing.T) {
	positions := []int{28 * 28, 14 * 14, 1, 1} // per weight tensor: conv1, conv2, dense 1, dense 2
	var fwd, inGrad int
	for l, pos := range positions {
		macs := shapeSize(paramShapes[2*l]) * pos
		fwd += macs
		if l > 0 {
			inGrad += macs
		}
	}
	if fwd != 4467664 || inGrad != 4241872 {
		t.Fatalf("multiply-adds from the shapes: forward %d, input gradients %d; want 4,467,664 and 4,241,872", fwd, inGrad)
	}
	if ForwardFLOPs != 2*fwd || ForwardFLOPs != 8935328 {
		t.Errorf("ForwardFLOPs = %d, want 2·%d = 8,935,328", ForwardFLOPs, fwd)
	}
	if want := 2 * (2*fwd + inGrad); TrainFLOPs != want || TrainFLOPs != 26354400 {
		t.Errorf("TrainFLOPs = %d, want 2·(2·%d + %d) = %d", TrainFLOPs, fwd, inGrad, want)
	}
}
