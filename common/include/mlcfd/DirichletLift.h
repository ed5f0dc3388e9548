// mlcfd: Dirichlet lifting, boundary values set exactly on a network output.
#ifndef MLCFD_DIRICHLET_LIFT_H
#define MLCFD_DIRICHLET_LIFT_H

#include <cstddef>
#include <vector>

namespace mlcfd
{

/// The Dirichlet lift of a network output:
///
///     u = P_free^T P_free u_net + P_D^T g,
///
/// i.e. the network's values are kept on the free degrees of freedom and the
/// constrained ones are overwritten with their prescribed values g, so the
/// boundary condition holds exactly (bit for bit), whatever the network
/// predicts. The layer is linear in u_net with the diagonal 0/1 Jacobian
/// P_free^T P_free: its adjoint (backward()) passes gradients through on free
/// DoFs and zeroes them on constrained ones, so training never tries to fit
/// values that are overwritten anyway.
///
/// In deal.II the constrained DoFs and values come from AffineConstraints
/// (is_inhomogeneously_constrained / get_inhomogeneity); in OpenFOAM from
/// the fixed-value patch faces.
///
/// @code
///   mlcfd::DirichletLift lift(n, boundaryDofs, boundaryValues);
///   lift.apply(prediction.data());           // in place
///   lift.backward(gradient.data());          // adjoint, in place
/// @endcode
class DirichletLift
{
public:
    /// @p size unknowns; @p constrained holds distinct indices < size, and
    /// @p values the finite value for each. Throws std::invalid_argument
    /// naming the bad entry otherwise.
    DirichletLift(std::size_t size, std::vector<std::size_t> constrained, std::vector<double> values);

    std::size_t size() const { return size_; }
    const std::vector<std::size_t>& constrained() const { return constrained_; }
    const std::vector<double>& values() const { return values_; }

    /// Replace the prescribed values (same DoFs), e.g. a time-dependent g.
    void setValues(const std::vector<double>& values);

    /// u (size() entries) in place: constrained entries set to their values.
    void apply(double* u) const;
    void apply(std::vector<double>& u) const;

    /// The adjoint on a gradient w.r.t. the lifted output, in place: the
    /// gradient w.r.t. the network output is zero on constrained entries.
    void backward(double* gradient) const;

    /// max |u_i - g_i| over the constrained entries (0 after apply()).
    double maxViolation(const double* u) const;

private:
    std::size_t size_;
    std::vector<std::size_t> constrained_;
    std::vector<double> values_;
};

} // namespace mlcfd

#endif
