#include "mlcfd/DirichletLift.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mlcfd
{

DirichletLift::DirichletLift(
    std::size_t size, std::vector<std::size_t> constrained, std::vector<double> values)
    : size_(size), constrained_(std::move(constrained)), values_(std::move(values))
{
    if (constrained_.size() != values_.size())
    {
        throw std::invalid_argument("mlcfd::DirichletLift: " + std::to_string(constrained_.size())
                                    + " constrained DoFs but " + std::to_string(values_.size()) + " values");
    }
    std::vector<bool> seen(size_, false);
    for (std::size_t i = 0; i < constrained_.size(); ++i)
    {
        const std::size_t dof = constrained_[i];
        if (dof >= size_)
        {
            throw std::invalid_argument("mlcfd::DirichletLift: constrained[" + std::to_string(i)
                                        + "] = " + std::to_string(dof)
                                        + " is not below size = " + std::to_string(size_));
        }
        if (seen[dof])
        {
            throw std::invalid_argument("mlcfd::DirichletLift: DoF " + std::to_string(dof)
                                        + " is constrained twice (constrained[" + std::to_string(i) + "])");
        }
        seen[dof] = true;
    }
    setValues(values_);
}

void DirichletLift::setValues(const std::vector<double>& values)
{
    if (values.size() != constrained_.size())
    {
        throw std::invalid_argument("mlcfd::DirichletLift::setValues: " + std::to_string(values.size())
                                    + " values for " + std::to_string(constrained_.size())
                                    + " constrained DoFs");
    }
    for (std::size_t i = 0; i < values.size(); ++i)
    {
        if (!std::isfinite(values[i]))
        {
            throw std::invalid_argument("mlcfd::DirichletLift: the value of DoF "
                                        + std::to_string(constrained_[i]) + " (values[" + std::to_string(i)
                                        + "]) is not finite");
        }
    }
    values_ = values;
}

void DirichletLift::apply(double* u) const
{
    for (std::size_t i = 0; i < constrained_.size(); ++i) u[constrained_[i]] = values_[i];
}

void DirichletLift::apply(std::vector<double>& u) const
{
    if (u.size() != size_)
    {
        throw std::invalid_argument("mlcfd::DirichletLift::apply: u has " + std::to_string(u.size())
                                    + " entries, expected " + std::to_string(size_));
    }
    apply(u.data());
}

void DirichletLift::backward(double* gradient) const
{
    for (std::size_t dof : constrained_) gradient[dof] = 0;
}

double DirichletLift::maxViolation(const double* u) const
{
    double worst = 0;
    for (std::size_t i = 0; i < constrained_.size(); ++i)
    {
        worst = std::max(worst, std::abs(u[constrained_[i]] - values_[i]));
    }
    return worst;
}

} // namespace mlcfd
