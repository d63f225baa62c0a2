// A forward function becomes one training step: parameters turn into
// arguments, the loss and the reverse sweep follow the forward ops, and the
// optimizer update closes the function.
// RUN: tessera-opt %s --tessera-autodiff='loss=mse optimizer=sgd lr=0.5 emit-gradients=true' | FileCheck %s
// RUN: tessera-opt %s --tessera-autodiff='loss=cross-entropy optimizer=adam' | FileCheck %s --check-prefix=ADAM

// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32> {tessera.name = "x"}
// CHECK-SAME: %[[T:[a-z0-9]+]]: tensor<2x4xf32> {tessera.name = "target"}
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3x4xf32> {tessera.name = "w"}
// CHECK-SAME: -> (tensor<1xf32> {tessera.name = "loss"}, tensor<3x4xf32> {tessera.name = "w.new"}, tensor<3x4xf32> {tessera.name = "w.grad"})
// CHECK-SAME: attributes {tessera.training_step = {loss = "mse", optimizer = "sgd", params = 1 : i64}}
// CHECK:      %[[Y:.*]] = tessera.matmul %[[X]], %[[W]]
// CHECK:      %[[R:.*]] = tessera.relu %[[Y]]
// CHECK:      %[[D:.*]] = tessera.sub %[[R]], %[[T]]
// The MSE seed: 2 (r - t) / 8, then relu's mask, then x^T @ g.
// CHECK:      tessera.constant dense<2.500000e-01>
// CHECK:      %[[M:.*]] = tessera.gt %[[Y]]
// CHECK:      %[[G:.*]] = tessera.where %[[M]]
// CHECK:      %[[XT:.*]] = tessera.transpose %[[X]] {perm = array<i64: 1, 0>}
// CHECK:      %[[GW:.*]] = tessera.matmul %[[XT]], %[[G]] : tensor<3x2xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
// CHECK:      tessera.constant dense<5.000000e-01>
// CHECK:      %[[NEW:.*]] = tessera.sub %[[W]]
// CHECK:      return %{{.*}}, %[[NEW]], %[[GW]]

// ADAM-LABEL: func.func @main(
// ADAM-SAME: {tessera.name = "w.adam_m"}
// ADAM-SAME: {tessera.name = "w.adam_v"}
// ADAM-SAME: tensor<1xf32> {tessera.name = "adam_step"}
// ADAM-SAME: {tessera.name = "adam_step.new"}
// ADAM:      tessera.softmax {{.*}}{axis = 1 : i64, log = true}
// ADAM:      tessera.pow
// ADAM:      tessera.sqrt
func.func @main(%x: tensor<2x3xf32> {tessera.name = "x"}) -> (tensor<2x4xf32> {tessera.name = "y"}) {
  %w = tessera.constant dense<[[0.1, -0.2, 0.3, 0.4], [0.5, 0.6, -0.7, 0.8], [0.9, 1.0, 1.1, -1.2]]> : tensor<3x4xf32> loc("w")
  %y = tessera.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %r = tessera.relu %y : tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}
