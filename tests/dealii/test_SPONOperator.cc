// Tests of mlcfd::dealii::SPONOperator: the decoder's Dirichlet and
// hanging-node constraints hold to round-off for any network output (a
// deliberately bad one included) on adaptively refined meshes, the free
// DoFs keep the network's values, the multigrid variant transfers exactly,
// and wrong model widths are rejected.
#include "mlcfd/ModelWriter.h"
#include "mlcfd/dealii/SPONOperator.h"

#include <deal.II/base/function.h>
#include <deal.II/base/mpi.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/la_parallel_vector.h>
#include <deal.II/numerics/vector_tools.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <memory>
#include <string>

using namespace dealii;
using Operator = mlcfd::dealii::SPONOperator<2>;

namespace
{

std::string scratch(const std::string& name)
{
    return std::string(MLCFD_TEST_SCRATCH_DIR) + "/" + std::to_string(::getpid()) + "_spon_" + name;
}

/// A model reading @p inputs fields of @p n DoFs and returning n values
/// computed by @p expression (TorchScript, x the input rows).
std::shared_ptr<const mlcfd::Model> writeModel(
    const std::string& name, const std::size_t n, const unsigned int inputs, const std::string& expression)
{
    mlcfd::ModelMetadata m;
    m.kind = "sponOperator";
    for (unsigned int k = 0; k < inputs; ++k)
        for (std::size_t i = 0; i < n; ++i)
            m.inputs.push_back("in" + std::to_string(k) + "_" + std::to_string(i));
    for (std::size_t i = 0; i < n; ++i) m.outputs.push_back("u_" + std::to_string(i));
    const std::string file = scratch(name + ".pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    n = "
            + std::to_string(n)
            + "\n"
              "    return "
            + expression + "\n",
        m);
    mlcfd::ModelOptions options;
    options.warmupRows = 4;
    return std::make_shared<const mlcfd::Model>(file, options);
}

/// The L-shape refined globally @p global times, then twice around the
/// re-entrant corner: hanging nodes on every refinement front.
/// (On a distributed mesh each process flags its own cells: the same mesh.)
void makeAdaptiveLShape(Triangulation<2>& tria, const unsigned int global)
{
    GridGenerator::hyper_L(tria, -1, 1);
    tria.refine_global(global);
    for (unsigned int step = 0; step < 2; ++step)
    {
        for (const auto& cell : tria.active_cell_iterators())
            if (cell->is_locally_owned() && cell->center().norm() < 0.45) cell->set_refine_flag();
        tria.execute_coarsening_and_refinement();
    }
}

/// Boundary data g = 1 + x + 2y (a linear function: in every Q_k space).
class Linear : public Function<2>
{
public:
    double value(const Point<2>& p, const unsigned int = 0) const override { return 1 + p[0] + 2 * p[1]; }
};

class Wavy : public Function<2>
{
public:
    double value(const Point<2>& p, const unsigned int = 0) const override
    {
        return std::sin(3 * p[0]) * std::cos(2 * p[1]) + 2;
    }
};

void makeConstraints(const DoFHandler<2>& dofs, AffineConstraints<double>& constraints)
{
    constraints.clear();
    constraints.reinit(DoFTools::extract_locally_relevant_dofs(dofs));
    DoFTools::make_hanging_node_constraints(dofs, constraints);
    VectorTools::interpolate_boundary_values(dofs, 0, Linear(), constraints);
    constraints.close();
}

std::size_t hangingNodeLines(const DoFHandler<2>& dofs)
{
    AffineConstraints<double> hanging;
    DoFTools::make_hanging_node_constraints(dofs, hanging);
    hanging.close();
    return hanging.n_constraints();
}

} // namespace

// Any network output, here a deliberately bad one (amplitude 100, wild
// oscillation), decodes to an FE function that satisfies every Dirichlet
// and hanging-node constraint to round-off, on Q1 and Q2; the unconstrained
// decoder does not, and the free DoFs keep the network's values.
TEST(SPONOperator, ConstraintsHoldForABadModelOnHangingNodes)
{
    for (const unsigned int degree : {1u, 2u})
    {
        Triangulation<2> tria;
        makeAdaptiveLShape(tria, 2);
        FE_Q<2> fe(degree);
        DoFHandler<2> dofs(tria);
        dofs.distribute_dofs(fe);
        ASSERT_GT(hangingNodeLines(dofs), 10u) << "the mesh must have hanging nodes";
        AffineConstraints<double> constraints;
        makeConstraints(dofs, constraints);
        const std::size_t n = dofs.n_dofs();

        auto model = writeModel("bad_q" + std::to_string(degree), n, 2,
            "100.0*torch.sin(37.0*x[:, 0:n] + 1.0) + x[:, n:2*n]*x[:, 0:n]");
        Operator spon;
        spon.initialize(model, dofs, dofs, constraints);
        EXPECT_EQ(spon.n_inputs(), 2u);
        EXPECT_FALSE(spon.multilevel());

        const Linear g;
        const Wavy a;
        std::vector<double> in(spon.input_width()), raw(spon.output_width());
        spon.encode({&a, &g}, in.data());
        spon.process(in.data(), 1, raw.data());
        Vector<double> u;
        spon.decode(raw.data(), u);
        ASSERT_EQ(u.size(), n);

        const double violation = Operator::constraint_violation(constraints, u);
        EXPECT_LE(violation, 1e-12) << "Q" << degree;
        // Dirichlet DoFs carry g exactly.
        std::map<types::global_dof_index, double> boundary;
        VectorTools::interpolate_boundary_values(dofs, 0, g, boundary);
        for (const auto& [i, value] : boundary) EXPECT_EQ(u[i], value) << "DoF " << i;
        // Free DoFs: exactly what the network said.
        for (std::size_t i = 0; i < n; ++i)
        {
            if (!constraints.is_constrained(i))
            {
                EXPECT_EQ(u[i], raw[i]) << "DoF " << i;
            }
        }

        Operator unconstrained;
        Operator::AdditionalData data;
        data.apply_constraints = false;
        unconstrained.initialize(model, dofs, dofs, constraints, data);
        Vector<double> v;
        unconstrained.decode(raw.data(), v);
        EXPECT_GT(Operator::constraint_violation(constraints, v), 1.0);
        EXPECT_LE(unconstrained.timings().constraints, 0.0);
    }
}

// A random network (a new draw on every call) as well.
TEST(SPONOperator, ConstraintsHoldForARandomModel)
{
    Triangulation<2> tria;
    makeAdaptiveLShape(tria, 3);
    FE_Q<2> fe(1);
    DoFHandler<2> dofs(tria);
    dofs.distribute_dofs(fe);
    AffineConstraints<double> constraints;
    makeConstraints(dofs, constraints);
    auto model = writeModel("random", dofs.n_dofs(), 1, "1e3*torch.randn(x.shape[0], n, dtype=x.dtype)");
    Operator spon;
    spon.initialize(model, dofs, dofs, constraints);
    const Wavy a;
    std::vector<std::vector<const Function<2>*>> samples(5, {&a});
    std::vector<Vector<double>> u;
    spon.predict(samples, u);
    ASSERT_EQ(u.size(), 5u);
    for (const auto& ui : u) EXPECT_LE(Operator::constraint_violation(constraints, ui), 1e-12 * 1e3);
    EXPECT_EQ(spon.timings().samples, 5u);
}

// The L2-projection encoder respects the processor space's hanging nodes.
TEST(SPONOperator, ProjectionEncoderIsConforming)
{
    Triangulation<2> tria;
    makeAdaptiveLShape(tria, 2);
    FE_Q<2> fe(1);
    DoFHandler<2> dofs(tria);
    dofs.distribute_dofs(fe);
    AffineConstraints<double> constraints;
    makeConstraints(dofs, constraints);
    AffineConstraints<double> hanging;
    DoFTools::make_hanging_node_constraints(dofs, hanging);
    hanging.close();
    auto model = writeModel("identity_projection", dofs.n_dofs(), 1, "x");
    Operator spon;
    Operator::AdditionalData data;
    data.encoder = Operator::Encoder::projection;
    spon.initialize(model, dofs, dofs, constraints, data);
    const Wavy a;
    std::vector<double> row(spon.input_width());
    spon.encode({&a}, row.data());
    Vector<double> projected(row.begin(), row.end());
    EXPECT_LE(Operator::constraint_violation(hanging, projected), 1e-12);
    // The projection of a smooth function is close to its interpolant.
    Vector<double> interpolated(dofs.n_dofs());
    VectorTools::interpolate(dofs, a, interpolated);
    projected -= interpolated;
    EXPECT_LT(projected.linfty_norm(), 0.05);
}

// Multigrid variant: processor on the coarse mesh (one refinement less),
// output on the adaptively refined fine mesh. The transfer reproduces a
// linear function exactly, and the constraint step holds on the fine mesh.
TEST(SPONOperator, MultigridVariantTransfersAndConstrains)
{
    Triangulation<2> coarseTria, fineTria;
    GridGenerator::hyper_L(coarseTria, -1, 1);
    coarseTria.refine_global(2);
    makeAdaptiveLShape(fineTria, 3);
    FE_Q<2> fe(1);
    DoFHandler<2> coarse(coarseTria), fine(fineTria);
    coarse.distribute_dofs(fe);
    fine.distribute_dofs(fe);
    ASSERT_GT(hangingNodeLines(fine), 10u);
    AffineConstraints<double> constraints;
    makeConstraints(fine, constraints);

    // Identity on the input: the output is the interpolant of g = 1 + x + 2y
    // on the coarse mesh, whose prolongation is g's interpolant on the fine one.
    auto identity = writeModel("identity_coarse", coarse.n_dofs(), 1, "x");
    Operator spon;
    Operator::AdditionalData data;
    data.apply_constraints = false;
    spon.initialize(identity, coarse, fine, constraints, data);
    EXPECT_TRUE(spon.multilevel());
    const Linear g;
    Vector<double> u;
    spon.predict({&g}, u);
    ASSERT_EQ(u.size(), fine.n_dofs());
    Vector<double> exact(fine.n_dofs());
    VectorTools::interpolate(fine, g, exact);
    u -= exact;
    EXPECT_LE(u.linfty_norm(), 1e-12);

    // A bad network on the coarse mesh, constrained on the fine mesh.
    auto bad = writeModel("bad_coarse", coarse.n_dofs(), 1, "50.0*torch.cos(13.0*x + 0.3)");
    Operator constrained;
    constrained.initialize(bad, coarse, fine, constraints);
    Vector<double> v;
    constrained.predict({&g}, v);
    EXPECT_LE(Operator::constraint_violation(constraints, v), 1e-12);
    EXPECT_GT(constrained.timings().transfer, 0.0);
}

TEST(SPONOperator, RejectsModelsOfTheWrongWidth)
{
    Triangulation<2> tria;
    GridGenerator::hyper_L(tria, -1, 1);
    tria.refine_global(1);
    FE_Q<2> fe(1);
    DoFHandler<2> dofs(tria);
    dofs.distribute_dofs(fe);
    AffineConstraints<double> constraints;
    makeConstraints(dofs, constraints);
    auto model = writeModel("too_small", dofs.n_dofs() - 1, 1, "x");
    Operator spon;
    EXPECT_THROW(spon.initialize(model, dofs, dofs, constraints), ExceptionBase);
    auto wide = writeModel("right_width", dofs.n_dofs(), 2, "x[:, 0:n]");
    spon.initialize(wide, dofs, dofs, constraints);
    const Linear g;
    std::vector<double> row(spon.input_width());
    EXPECT_THROW(spon.encode({&g}, row.data()), ExceptionBase); // 1 function for 2
}

/// The serial operator and the one on a distributed copy of its mesh (as
/// many parts as MPI processes), both from one model.
struct SerialAndDistributed
{
    Triangulation<2> serialMesh{Triangulation<2>::limit_level_difference_at_vertices};
    parallel::distributed::Triangulation<2> mesh{MPI_COMM_WORLD};
    FE_Q<2> fe{1};
    DoFHandler<2> serialDofs{serialMesh}, dofs{mesh};
    AffineConstraints<double> serialConstraints, constraints;

    SerialAndDistributed()
    {
        makeAdaptiveLShape(serialMesh, 3);
        makeAdaptiveLShape(mesh, 3);
        serialDofs.distribute_dofs(fe);
        dofs.distribute_dofs(fe);
        makeConstraints(serialDofs, serialConstraints);
        makeConstraints(dofs, constraints);
    }

    /// Serial u at the DoF of the serial mesh at the support point of the
    /// distributed mesh's DoF @p i (found by search, not by the operator).
    double serialValueAt(const Vector<double>& u, const types::global_dof_index i) const
    {
        std::vector<Point<2>> serialPoints(serialDofs.n_dofs());
        DoFTools::map_dofs_to_support_points(StaticMappingQ1<2>::mapping, serialDofs, serialPoints);
        std::map<types::global_dof_index, Point<2>> points;
        DoFTools::map_dofs_to_support_points(StaticMappingQ1<2>::mapping, dofs, points);
        for (std::size_t j = 0; j < serialPoints.size(); ++j)
            if (serialPoints[j].distance(points.at(i)) < 1e-12) return u[j];
        ADD_FAILURE() << "no serial DoF at the support point of DoF " << i;
        return 0;
    }
};

// On as many processes as the test runs on (ctest: 1 and 2), the operator on
// a distributed mesh with hanging nodes gives the serial operator's values
// at every owned and ghost DoF, constrained and raw. The model mixes DoFs
// far apart (the second input reversed), so a wrong order would show.
TEST(SPONOperator, DistributedMeshEqualsSerial)
{
    SerialAndDistributed m;
    ASSERT_EQ(m.dofs.n_dofs(), m.serialDofs.n_dofs()) << "the two meshes differ";
    ASSERT_GT(hangingNodeLines(m.serialDofs), 10u);
    const std::size_t n = m.serialDofs.n_dofs();
    auto model = writeModel("distributed", n, 2, "torch.tanh(2.0*x[:, 0:n] + torch.flip(x[:, n:2*n], [1]))");
    const Wavy a;
    const Linear g;

    for (const bool constrained : {true, false})
    {
        Operator serial, distributed;
        Operator::AdditionalData data;
        data.apply_constraints = constrained;
        serial.initialize(model, m.serialDofs, m.serialDofs, m.serialConstraints, data);
        distributed.initialize_distributed(model, m.serialDofs, m.dofs, m.constraints, data);
        EXPECT_TRUE(distributed.distributed());
        Vector<double> expected;
        serial.predict({&a, &g}, expected);
        LinearAlgebra::distributed::Vector<double> u;
        distributed.predict({&a, &g}, u);

        const IndexSet relevant = DoFTools::extract_locally_relevant_dofs(m.dofs);
        EXPECT_EQ(u.locally_owned_elements(), m.dofs.locally_owned_dofs());
        double difference = 0, largest = 0;
        for (const auto i : relevant)
        {
            difference = std::max(difference, std::abs(u(i) - m.serialValueAt(expected, i)));
            largest = std::max(largest, std::abs(u(i)));
        }
        EXPECT_LT(difference, 1e-14) << (constrained ? "constrained" : "raw");
        EXPECT_GT(largest, 0.5) << "the network's output must not be trivial";

        // Every constrained line this process owns holds to round-off.
        double violation = 0;
        for (const auto& line : m.constraints.get_lines())
        {
            if (!m.dofs.locally_owned_dofs().is_element(line.index)) continue;
            double r = u(line.index) - line.inhomogeneity;
            for (const auto& entry : line.entries) r -= entry.second * u(entry.first);
            violation = std::max(violation, std::abs(r));
        }
        if (constrained) EXPECT_LT(violation, 1e-13);
        // Some process owns boundary lines that the raw network breaks.
        const double worst = Utilities::MPI::max(violation, MPI_COMM_WORLD);
        EXPECT_EQ(Operator::constraint_violation(m.constraints, u), worst);
        if (!constrained) EXPECT_GT(worst, 1e-3);
    }
}

// What the distributed operator cannot do is refused with the reason, on
// every process alike (ctest runs this on 2 ranks with a timeout: a lone
// throw would hang).
TEST(SPONOperator, DistributedRefusesOtherMeshesAndTheProjectionEncoder)
{
    SerialAndDistributed m;
    const std::size_t n = m.serialDofs.n_dofs();
    auto model = writeModel("distributed_refused", n, 1, "x");
    Operator spon;
    Operator::AdditionalData projection;
    projection.encoder = Operator::Encoder::projection;
    EXPECT_THROW(
        spon.initialize_distributed(model, m.serialDofs, m.dofs, m.constraints, projection), ExceptionBase);

    Triangulation<2> coarser;
    makeAdaptiveLShape(coarser, 2);
    DoFHandler<2> coarserDofs(coarser);
    coarserDofs.distribute_dofs(m.fe);
    auto coarserModel = writeModel("distributed_coarser", coarserDofs.n_dofs(), 1, "x");
    EXPECT_THROW(
        spon.initialize_distributed(coarserModel, coarserDofs, m.dofs, m.constraints), ExceptionBase);

    // The same number of DoFs on another mesh: one corner cell refined on
    // the model's mesh, another on the distributed one. The process that
    // finds the stray cell must not throw alone (the others would wait).
    const auto refineCornerCell = [](Triangulation<2>& tria, const Point<2>& corner)
    {
        GridGenerator::hyper_L(tria, -1, 1);
        tria.refine_global(2);
        for (const auto& cell : tria.active_cell_iterators())
            if (cell->is_locally_owned() && cell->point_inside(corner)) cell->set_refine_flag();
        tria.execute_coarsening_and_refinement();
    };
    Triangulation<2> oneCorner;
    parallel::distributed::Triangulation<2> otherCorner(MPI_COMM_WORLD);
    refineCornerCell(oneCorner, Point<2>(-0.99, -0.99));
    refineCornerCell(otherCorner, Point<2>(-0.99, 0.99));
    DoFHandler<2> oneCornerDofs(oneCorner), otherCornerDofs(otherCorner);
    oneCornerDofs.distribute_dofs(m.fe);
    otherCornerDofs.distribute_dofs(m.fe);
    ASSERT_EQ(oneCornerDofs.n_dofs(), otherCornerDofs.n_dofs());
    AffineConstraints<double> otherConstraints;
    makeConstraints(otherCornerDofs, otherConstraints);
    auto cornerModel = writeModel("distributed_corner", oneCornerDofs.n_dofs(), 1, "x");
    EXPECT_THROW(spon.initialize_distributed(cornerModel, oneCornerDofs, otherCornerDofs, otherConstraints),
        ExceptionBase);
    EXPECT_FALSE(spon.distributed()) << "a refusal leaves the operator as it was";

    spon.initialize_distributed(model, m.serialDofs, m.dofs, m.constraints);
    Vector<double> serialVector;
    std::vector<double> row(n, 1.0);
    EXPECT_THROW(spon.decode(row.data(), serialVector), ExceptionBase);
}

int main(int argc, char** argv)
{
    Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
