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

// TestTrainedImages checks TrainedImages against the batches trainCNNPart's loop takes (step t feeds
// rows pos·bs … min((pos+1)·bs, n) − 1 of its epoch, pos = t mod ⌈n/bs⌉) and against 12,512 worked by
// hand for a Question 1 fit (200 steps of 64 on 1,000 rows: 15 full batches and one of 40 an epoch).
func TestTrainedImages(t *testing.T) {
	if got := TrainedImages(1000, 200, 64); got != 12512 {
		t.Errorf("TrainedImages(1000, 200, 64) = %d, want 12,512", got)
	}
	for _, c := range [][3]int{{1000, 200, 64}, {1280, 20, 64}, {64, 7, 64}, {65, 3, 64}, {10, 1, 64}, {130, 17, 64}, {6000, 94, 64}} {
		n, steps, bs := c[0], c[1], c[2]
		perEpoch, want := (n+bs-1)/bs, 0
		for s := 0; s < steps; s++ {
			pos := s % perEpoch
			want += min((pos+1)*bs, n) - pos*bs
		}
		if got := TrainedImages(n, steps, bs); got != want {
			t.Errorf("TrainedImages(%d, %d, %d) = %d, the loop's batches %d", n, steps, bs, got, want)
		}
	}
}
