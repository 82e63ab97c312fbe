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
