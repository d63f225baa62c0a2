//===- Passes.td - reverse-mode autodiff -------------------*- tablegen -*-===//
#ifndef TESSERA_AUTODIFF_PASSES_TD
#define TESSERA_AUTODIFF_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesseraAutodiff : Pass<"tessera-autodiff", "mlir::ModuleOp"> {
  let summary = "Turn a forward function into one training step: loss, "
                "reverse-mode gradients and an optimizer update";
  let description = [{
    The public function's trainable parameters -- its non-splat float
    `tessera.constant`s with at least two elements, except batch-norm
    statistics -- become arguments. After the forward ops the pass builds the
    loss of result 0 against a new `target` argument (`mse`: mean squared
    error; `cross-entropy`: mean over rows of -sum(target * log_softmax)
    along the last axis, targets being probabilities such as one-hot rows),
    then the gradient of every parameter by reverse-mode differentiation (one
    vector-Jacobian rule per op, in tessera ops), then the update
    (`sgd`: p - lr g; `adam`: torch's Adam with bias correction, its moments
    and step count as extra arguments and results; `none`: no update).

    Signature after the pass:
    `(inputs..., target, params..., [m..., v..., step]) ->
     (loss, [new params...], [new m..., new v..., new step], [grads...])`;
    gradients are results with `emit-gradients` (always with `none`).
    Arguments and results carry `tessera.name` (parameters keep their
    initializer names; updated ones end in `.new`, gradients in `.grad`).
    Ops without a gradient rule on the path from a parameter to the loss are
    listed all at once in one error.
  }];
  let options = [
    Option<"loss", "loss", "std::string", "\"mse\"", "mse or cross-entropy">,
    Option<"optimizer", "optimizer", "std::string", "\"sgd\"",
           "sgd, adam or none">,
    Option<"lr", "lr", "double", "0.01", "Learning rate">,
    Option<"beta1", "beta1", "double", "0.9", "Adam's beta1">,
    Option<"beta2", "beta2", "double", "0.999", "Adam's beta2">,
    Option<"eps", "eps", "double", "1e-8", "Adam's epsilon">,
    Option<"emitGradients", "emit-gradients", "bool", "false",
           "Also return every parameter's gradient">,
  ];
  let dependentDialects = ["tessera::TesseraDialect"];
}

#endif
