// An example plugin library with a real posterior: the eight-schools model in its non-centred form,
//
//   theta~_j ~ N(0, 1),  mu ~ N(0, mu_scale),  tau ~ half-Cauchy(0, tau_scale),
//   y_j ~ N(mu + tau theta~_j, sigma_j),  j = 1..J,
//
// sampled in x = (theta~_1, ..., theta~_J, mu, s) with s = log tau, so d = J + 2. With the
// log-Jacobian of tau = e^s, up to a constant,
//
//   Phi(x) = sum_j (y_j - mu - tau theta~_j)^2 / (2 sigma_j^2) + |theta~|^2 / 2 + mu^2 / (2 mu_scale^2)
//            + log(1 + tau^2 / tau_scale^2) - s.
//
// The potential has no polynomial form, so the host builds its initial condition by TT-cross.
// Small tau gives the posterior a funnel in the direction of s, which "domain": "auto" centres
// and scales but cannot straighten.
//
// The library also contains the postprocessor "eight_schools_summary", which reports the posterior
// mean, standard deviation, Monte Carlo error and quantiles of mu, tau and theta_j = mu + tau theta~_j.
#include <hjbtt/errors.hpp>
#include <hjbtt/plugin.hpp>
#include <hjbtt/postprocessor.hpp>
#include <hjbtt/potential.hpp>

#include <armadillo>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace eight_schools {

// The eight-schools data: estimated coaching effects y_j and their standard errors sigma_j.
const std::vector<double> default_effects{28, 8, -3, 7, -1, 1, 18, 12};
const std::vector<double> default_standard_errors{15, 10, 16, 11, 9, 11, 10, 18};

// log(1 + e^a) without overflow for large a or loss of precision for very negative a.
arma::rowvec softplus(const arma::rowvec& a) { return arma::clamp(a, 0.0, arma::datum::inf) + arma::log1p(arma::exp(-arma::abs(a))); }

// The logistic function 1 / (1 + e^-a), the derivative of softplus, without overflow.
arma::rowvec logistic(const arma::rowvec& a) {
  arma::rowvec out(a.n_elem);
  for (arma::uword i = 0; i < a.n_elem; ++i) {
    const double e = std::exp(-std::abs(a(i)));
    out(i) = a(i) >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  }
  return out;
}

class EightSchoolsPotential : public hjbtt::Potential {
public:
  EightSchoolsPotential(arma::vec effects, arma::vec standard_errors, double mu_scale, double tau_scale)
      : effects_(std::move(effects)),
        precisions_(1.0 / arma::square(standard_errors)),
        mu_scale_(mu_scale),
        log_tau_scale_(std::log(tau_scale)) {}

  arma::uword dimension() const override { return effects_.n_elem + 2; }

  arma::rowvec value(const arma::mat& X) const override {
    check_rows(X);
    const arma::uword J = effects_.n_elem;
    const arma::rowvec s = X.row(J + 1);
    const arma::mat residuals = residuals_of(X);
    const arma::mat scaled = residuals.each_col() % precisions_;
    return 0.5 * arma::sum(scaled % residuals, 0) + 0.5 * arma::sum(arma::square(X.rows(0, J - 1)), 0) +
           0.5 * arma::square(X.row(J) / mu_scale_) + softplus(2.0 * (s - log_tau_scale_)) - s;
  }

  // With w_j = (y_j - mu - tau theta~_j) / sigma_j^2:
  //   dPhi/dtheta~_j = theta~_j - tau w_j,   dPhi/dmu = mu / mu_scale^2 - sum_j w_j,
  //   dPhi/ds = -tau sum_j w_j theta~_j + 2 logistic(2 (s - log tau_scale)) - 1.
  arma::mat gradient(const arma::mat& X) const override {
    check_rows(X);
    const arma::uword J = effects_.n_elem;
    const arma::rowvec tau = arma::exp(X.row(J + 1));
    const arma::mat theta = X.rows(0, J - 1);
    const arma::mat weighted = residuals_of(X).each_col() % precisions_;

    arma::mat gradient(X.n_rows, X.n_cols);
    gradient.rows(0, J - 1) = theta - weighted.each_row() % tau;
    gradient.row(J) = X.row(J) / (mu_scale_ * mu_scale_) - arma::sum(weighted, 0);
    gradient.row(J + 1) = -tau % arma::sum(weighted % theta, 0) + 2.0 * logistic(2.0 * (X.row(J + 1) - log_tau_scale_)) - 1.0;
    return gradient;
  }

private:
  // A wrong row count is a bug in the caller, not in the pipeline, so it is no ConfigurationError.
  void check_rows(const arma::mat& X) const {
    if (X.n_rows != dimension())
      throw std::invalid_argument("eight_schools potential: expected points with " + std::to_string(dimension()) +
                                  " rows, found " + std::to_string(X.n_rows));
  }

  // y_j - mu - tau theta~_j for every j (rows) and point (columns).
  arma::mat residuals_of(const arma::mat& X) const {
    const arma::uword J = effects_.n_elem;
    arma::mat residuals = X.rows(0, J - 1);
    residuals.each_row() %= -arma::exp(X.row(J + 1));
    residuals.each_row() -= X.row(J);
    residuals.each_col() += effects_;
    return residuals;
  }

  arma::vec effects_;
  arma::vec precisions_;  // 1 / sigma_j^2
  double mu_scale_;
  double log_tau_scale_;
};

// Computes the mean, standard deviation, Monte Carlo standard error and quantiles of one quantity.
// The Monte Carlo error sd / sqrt(N) is valid for independent samples, which the reverse SDE
// draws and MALA keeps independent. It does not measure the bias of an approximate sampler.
boost::json::object summarise(const arma::rowvec& values) {
  boost::json::object out;
  const double n = static_cast<double>(values.n_elem);
  const double mean = arma::mean(values);
  const double sd = values.n_elem > 1 ? arma::stddev(values) : 0.0;
  out["mean"] = mean;
  out["sd"] = sd;
  out["mc_error"] = sd / std::sqrt(n);
  const arma::vec levels{0.05, 0.5, 0.95};
  const arma::vec q = arma::quantile(values.t(), levels);
  out["q05"] = q(0);
  out["median"] = q(1);
  out["q95"] = q(2);
  return out;
}

std::string format_estimate(const boost::json::object& summary) {
  return hjbtt::format_number(summary.at("mean").as_double()) + " +- " + hjbtt::format_number(summary.at("sd").as_double()) +
         " (mc error " + hjbtt::format_number(summary.at("mc_error").as_double()) + ")";
}

// Reports mu, tau = e^s and theta_j = mu + tau theta~_j of samples in the coordinates of the
// potential above. The samples are not changed.
class EightSchoolsSummary : public hjbtt::Postprocessor {
public:
  void process(arma::mat& samples, const hjbtt::Potential& potential, const hjbtt::RunContext& context,
               boost::json::object& report) override {
    if (samples.n_rows != potential.dimension() || samples.n_rows < 3)
      throw std::invalid_argument("eight_schools_summary: expected samples with the potential's " +
                                  std::to_string(potential.dimension()) + " >= 3 rows (theta~_1..J, mu, log tau), found " +
                                  std::to_string(samples.n_rows));
    const arma::uword J = samples.n_rows - 2;

    // Columns with a non-finite entry are left out and counted.
    arma::uvec finite(samples.n_cols);
    arma::uword count = 0;
    for (arma::uword j = 0; j < samples.n_cols; ++j)
      if (samples.col(j).is_finite()) finite(count++) = j;
    if (count < 2) throw hjbtt::NumericalFailure("eight_schools_summary: fewer than two of the " + std::to_string(samples.n_cols) +
                                                  " samples are finite, so no standard deviation can be estimated");
    const arma::mat x = samples.cols(finite.head(count));

    const arma::rowvec mu = x.row(J);
    const arma::rowvec tau = arma::exp(x.row(J + 1));
    report["samples"] = static_cast<std::uint64_t>(count);
    report["nonfinite_samples"] = static_cast<std::uint64_t>(samples.n_cols - count);
    report["mu"] = summarise(mu);
    report["tau"] = summarise(tau);
    boost::json::array theta;
    for (arma::uword j = 0; j < J; ++j) theta.push_back(summarise(mu + tau % x.row(j)));
    report["theta"] = std::move(theta);

    if (context.log != nullptr)
      context.log->info("eight_schools_summary: mu " + format_estimate(report.at("mu").as_object()) + ", tau " +
                        format_estimate(report.at("tau").as_object()) + ", theta_1 " +
                        format_estimate(report.at("theta").as_array()[0].as_object()));
  }
};

// Reads parameter `name` as an array of finite numbers; `positive` also rejects values <= 0.
arma::vec read_numbers(const hjbtt::Parameters& params, const std::string& name, bool positive) {
  const boost::json::value& value = params.json(name);
  const boost::json::array& array = value.as_array();
  arma::vec out(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const bool number = array[i].is_number();
    const double v = number ? array[i].to_number<double>() : 0.0;
    if (!number || !std::isfinite(v) || (positive && !(v > 0.0)))
      params.fail(name, std::string("expected an array of ") + (positive ? "positive" : "finite") +
                            " numbers, found " + hjbtt::format_value(array[i]) + " at index " + std::to_string(i));
    out(i) = v;
  }
  return out;
}

std::shared_ptr<hjbtt::PluginObject> make_potential(const hjbtt::Parameters& params) {
  const arma::vec effects = read_numbers(params, "y", false);
  const arma::vec standard_errors = read_numbers(params, "sigma", true);
  if (effects.is_empty()) params.fail("y", "expected at least one school's effect, found an empty array");
  if (standard_errors.n_elem != effects.n_elem)
    params.fail("sigma", "expected one standard error per effect in y (" + std::to_string(effects.n_elem) + "), found " +
                             std::to_string(standard_errors.n_elem));
  for (const char* scale : {"mu_scale", "tau_scale"})
    if (!(params.number(scale) > 0.0))
      params.fail(scale, "expected a positive prior scale, found " + hjbtt::format_number(params.number(scale)));
  return std::make_shared<EightSchoolsPotential>(effects, standard_errors, params.number("mu_scale"), params.number("tau_scale"));
}

boost::json::array to_array(const std::vector<double>& values) { return boost::json::array(values.begin(), values.end()); }

hjbtt::PluginManifest manifest() {
  hjbtt::PluginInfo potential;
  potential.kind = hjbtt::PluginKind::potential;
  potential.name = "eight_schools";
  potential.version = "0.1.0";
  potential.summary = "Eight-schools posterior, non-centred, in (theta~_1..J, mu, log tau); no polynomial form, so v(0) "
                      "is built by TT-cross.";
  potential.parameters = {
      hjbtt::json_parameter("y", to_array(default_effects), hjbtt::ParameterType::array,
                            "Observed effects y_j, one per school; the default is the eight-schools data."),
      hjbtt::json_parameter("sigma", to_array(default_standard_errors), hjbtt::ParameterType::array,
                            "Standard errors sigma_j > 0 of the effects, one per school."),
      hjbtt::number_parameter("mu_scale", 5.0, "Standard deviation of the normal prior of mu; must be > 0.", 0.0),
      hjbtt::number_parameter("tau_scale", 5.0, "Scale of the half-Cauchy prior of tau; must be > 0.", 0.0),
  };
  potential.factory = [](const hjbtt::Parameters& params, hjbtt::PluginContext&) { return make_potential(params); };

  hjbtt::PluginInfo summary;
  summary.kind = hjbtt::PluginKind::postprocessor;
  summary.name = "eight_schools_summary";
  summary.version = "0.1.0";
  summary.summary = "Posterior mean, sd, Monte Carlo error and quantiles of mu, tau and theta_j = mu + tau theta~_j "
                    "for samples of the eight_schools potential";
  summary.factory = [](const hjbtt::Parameters&, hjbtt::PluginContext&) -> std::shared_ptr<hjbtt::PluginObject> {
    return std::make_shared<EightSchoolsSummary>();
  };
  return hjbtt::PluginManifest{{potential, summary}};
}

}  // namespace eight_schools

HJBTT_PLUGIN_MANIFEST(eight_schools::manifest())
