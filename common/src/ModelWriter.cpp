#include "mlcfd/ModelWriter.h"
#include "mlcfd/EddyViscosityClosure.h"
#include "mlcfd/TensorBasisClosure.h"
#include "mlcfd/ModelError.h"

#include <torch/script.h>

#include <sstream>

namespace mlcfd
{

void writeModel(const std::string& path, const std::string& torchScriptSource, const ModelMetadata& metadata)
{
    ModelMetadata checked = metadata;
    checked.validate(path);

    torch::jit::Module module("mlcfd_model");
    try
    {
        module.define(torchScriptSource);
    }
    catch (const std::exception& e)
    {
        throw ModelError(path, std::string("TorchScript source does not compile: ") + e.what());
    }
    try
    {
        module.save(path, {{ModelMetadata::archiveEntry, checked.toJson()}});
    }
    catch (const std::exception& e)
    {
        std::string reason = e.what();
        throw ModelError(path, "cannot write: " + reason.substr(0, reason.find('\n')));
    }
}

namespace referenceModels
{

namespace
{

// TorchScript that sets nutStar to OpenFOAM's Smagorinsky model in
// EddyViscosityClosure's units: sqrt(k) = delta s g with a = Ce,
// b = 2/3 trS, c = 2 Ck (trS2 - trS^2/3), g = (-b + sqrt(b^2 + 4ac))/(2a),
// and nu_t = Ck delta sqrt(k) = Ck g delta^2 s.
std::string smagorinskyNutStar(double Ck, double Ce, std::optional<double> regime)
{
    std::ostringstream src;
    src.precision(17);
    src << "def forward(self, x: Tensor) -> Tensor:\n"
        << "    Ck = " << Ck << "\n"
        << "    Ce = " << Ce << "\n"
        << "    trS = x[:, 0:1]\n"
        << "    devDD = torch.clamp(x[:, 1:2] - trS*trS/3.0, min=0.0)\n"
        << "    b = (2.0/3.0)*trS\n"
        << "    c = 2.0*Ck*devDD\n"
        << "    g = (-b + torch.sqrt(b*b + 4.0*Ce*c))/(2.0*Ce)\n"
        << "    nutStar = Ck*g\n";
    if (regime) src << "    nutStar = nutStar - " << *regime << "*x[:, 6:7]\n";
    return src.str();
}

// The closure inputs, units and constants shared by the Smagorinsky models.
ModelMetadata smagorinskyMetadata(double Ck, double Ce, std::optional<double> regime)
{
    ModelMetadata m;
    m.inputs = EddyViscosityClosure::featureNames();
    m.constants = {{"Ck", Ck}, {"Ce", Ce}};
    if (regime)
    {
        m.inputs.push_back(EddyViscosityClosure::regimeFeatureName);
        m.constants["regime"] = *regime;
    }
    for (const auto& name : m.inputs) m.units[name] = "1";
    return m;
}

} // namespace

void writeSmagorinsky(const std::string& path, double Ck, double Ce, std::optional<double> regime)
{
    ModelMetadata m = smagorinskyMetadata(Ck, Ce, regime);
    m.kind = EddyViscosityClosure::kind;
    m.description = "Smagorinsky eddy viscosity (OpenFOAM's formulation), written by C++";
    if (regime) m.description += ", minus regime*nuRatio";
    m.outputs = {"nutStar"};
    m.units["nutStar"] = "1 (nu_t/(delta^2 |grad U|))";
    writeModel(path, smagorinskyNutStar(Ck, Ce, regime) + "    return nutStar\n", m);
}

void writeTensorBasisSmagorinsky(
    const std::string& path, double g2, double Ck, double Ce, std::optional<double> regime)
{
    std::ostringstream ret;
    ret.precision(17);
    ret << "    return torch.cat([-2.0*nutStar, " << g2 << "*torch.ones_like(nutStar)], 1)\n";

    ModelMetadata m = smagorinskyMetadata(Ck, Ce, regime);
    m.kind = TensorBasisClosure::kind;
    m.description = "Smagorinsky as a tensor-basis closure (g1 = -2 nutStar) plus a"
                    " constant g2, written by C++";
    if (regime) m.description += "; nutStar minus regime*nuRatio";
    m.outputs = TensorBasisClosure::outputNames(2);
    m.constants["g2"] = g2;
    writeModel(path, smagorinskyNutStar(Ck, Ce, regime) + ret.str(), m);
}

void writeJacobi(const std::string& path)
{
    ModelMetadata m;
    m.kind = "preconditioner";
    m.description = "Jacobi diagonal scaling z = r/diag, written by C++";
    m.inputs = {"r", "diag"};
    m.outputs = {"z"};
    writeModel(path,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return x[:, 0:1]/x[:, 1:2]\n",
        m);
}

} // namespace referenceModels

} // namespace mlcfd
